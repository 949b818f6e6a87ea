//! The merge: one graph from many processes' report files, judged by the in-process rules.
//!
//! Classes are the same class in two processes when their `name` and `kind` are; a dependency
//! is the union of its dependency types over every process that recorded it. Every new
//! dependency (or new type of a known one) goes through lockdep's own [`DependencyOrder`], in
//! a fixed order (files sorted by path, edges in file order), so a cycle across processes is
//! found exactly as the checker would have found it had one process taken every lock:
//! strong paths only, reported when its classes *become* cyclic, the closing dependency kept.
//! Violations the processes recorded themselves are kept too, once per kind and classes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use lockdep_core::__merge::DependencyOrder;
use serde_json::value::RawValue;

use crate::input::{self, BadFile, Frame, Image, ReportFile, Site};
use crate::symbols;
use lockdep_core::__merge::{is_user, with_data_type};

/// A class of the merged graph; its index is its merged id.
pub struct Class {
    pub name: String,
    /// `lock`, `pool`, `alloc` or `event`.
    pub kind: String,
    /// The type of a creation-site lock class's data (`core::any::type_name`).
    pub data_type: Option<String>,
    pub site: Option<Site<'static>>,
}

/// A process that wrote a report file.
pub struct Process {
    pub path: PathBuf,
    pub binary: Option<String>,
    pub test: Option<String>,
    pub pid: u64,
    pub time: Option<u64>,
}

/// A dependency of the merged graph, with where it was first seen (in merge order) and every
/// process that recorded it.
pub struct Edge {
    pub from: u32,
    pub to: u32,
    pub deps: u8,
    /// Where it was acquired; `None` for an allocation whose trace has no frame of the user's
    /// code, or whose trace is still to be resolved (see [`Edge::site`]).
    site: Option<Site<'static>>,
    pub trace: Trace,
    /// Indices into [`Merged::processes`], in merge order, each once.
    pub processes: Vec<u32>,
}

/// A dependency's stack trace, as its first process wrote it.
pub enum Trace {
    /// Resolved by the process: the JSON array of frames.
    Frames(Box<RawValue>),
    /// Addresses in the process's binary, resolved when a report shows them (none when the
    /// file named no binary).
    Addresses {
        image: Option<Arc<Image>>,
        addresses: Option<Box<RawValue>>,
    },
}

impl Edge {
    /// The frames of the dependency's trace, innermost first, as reports show them.
    pub fn frames(&self) -> Vec<Frame<'_>> {
        match &self.trace {
            Trace::Frames(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
            Trace::Addresses {
                image: Some(image),
                addresses: Some(addresses),
            } => symbols::resolve(
                image,
                &serde_json::from_str::<Vec<u64>>(addresses.get()).unwrap_or_default(),
            ),
            Trace::Addresses { .. } => Vec::new(),
        }
    }

    /// Where the dependency's acquisition was made: its site, or for an allocation seen by
    /// `TrackingAllocator`, the first frame of the user's code in its trace (`None` when it
    /// has none).
    pub fn site(&self) -> Option<Site<'_>> {
        if let Some(site) = &self.site {
            return Some(site.clone());
        }
        match &self.trace {
            Trace::Frames(_) => None,
            Trace::Addresses { .. } => self
                .frames()
                .into_iter()
                .find(|f| is_user(&f.function, f.file()))
                .and_then(|f| f.site),
        }
    }
}

/// A cycle the merge found.
pub struct Cycle {
    /// As [`cycle_kind`] judges it.
    pub kind: &'static str,
    /// The dependencies (indices into [`Merged::edges`]): the closing one first, then the
    /// path it closes, from its acquired class back to its held class.
    pub ring: Vec<usize>,
    /// Processes that had recorded this very violation themselves.
    pub in_process: Vec<u32>,
}

impl Cycle {
    /// The classes in chain order: the closing dependency's acquired class first.
    pub fn classes<'a>(&'a self, merged: &'a Merged) -> impl Iterator<Item = u32> + 'a {
        self.ring.iter().map(|&e| merged.edges[e].to)
    }
}

/// A violation a process recorded itself, kept once per kind and classes.
pub struct Recorded {
    pub violation: input::Violation,
    /// The JSON object as the process wrote it.
    pub raw: Box<RawValue>,
    /// The processes that recorded it, the first one's copy kept.
    pub processes: Vec<u32>,
}

/// Every report file merged.
#[derive(Default)]
pub struct Merged {
    pub processes: Vec<Process>,
    pub classes: Vec<Class>,
    pub edges: Vec<Edge>,
    pub cycles: Vec<Cycle>,
    pub recorded: Vec<Recorded>,
    /// Files skipped, with why.
    pub bad: Vec<(PathBuf, BadFile)>,
    class_index: HashMap<String, u32>,
    edge_index: HashMap<(u32, u32), usize>,
    order: DependencyOrder,
    recorded_index: HashMap<ViolationKey, usize>,
}

/// What makes two violations the same: their kind and their classes, in any order.
type ViolationKey = (String, Vec<(String, String)>);

fn violation_key<'a>(
    kind: &str,
    classes: impl Iterator<Item = (&'a str, &'a str)>,
) -> ViolationKey {
    let mut classes: Vec<(String, String)> = classes
        .map(|(kind, name)| (kind.to_owned(), name.to_owned()))
        .collect();
    classes.sort();
    classes.dedup();
    (kind.to_owned(), classes)
}

fn class_key(name: &str, kind: &str, data_type: Option<&str>) -> String {
    format!("{kind}\0{name}\0{}", data_type.unwrap_or_default())
}

impl Merged {
    /// Merges the report files at `paths`, in this order; a file that cannot be read or is
    /// not a report file is recorded in [`bad`](Merged::bad) and skipped.
    ///
    /// Parsing, most of the work, is spread over the machine's threads, a batch of files at a
    /// time; merging stays in order, so the result does not depend on the threads.
    pub fn of_files(paths: &[PathBuf]) -> Merged {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut merged = Merged::default();
        for batch in paths.chunks(BATCH) {
            let mut unreadable: Vec<Option<std::io::Error>> = Vec::new();
            let texts: Vec<String> = batch
                .iter()
                .map(|path| match std::fs::read_to_string(path) {
                    Ok(text) => {
                        unreadable.push(None);
                        text
                    }
                    Err(e) => {
                        unreadable.push(Some(e));
                        String::new()
                    }
                })
                .collect();
            let parsed = parse_all(&texts, threads);
            for ((path, parsed), unreadable) in batch.iter().zip(parsed).zip(unreadable) {
                match (unreadable, parsed) {
                    (Some(e), _) => merged.bad.push((path.clone(), BadFile::Unreadable(e))),
                    (None, Ok((file, violations))) => {
                        merged.add_file(path.clone(), file, violations)
                    }
                    (None, Err(bad)) => merged.bad.push((path.clone(), bad)),
                }
            }
        }
        merged.fold_recorded_into_cycles();
        merged.disambiguate_names();
        merged
    }

    fn add_file(&mut self, path: PathBuf, file: ReportFile<'_>, violations: Vec<input::Violation>) {
        let process = self.processes.len() as u32;
        self.processes.push(Process {
            path,
            binary: file.binary.map(|b| b.into_owned()),
            test: file.test.map(|t| t.into_owned()),
            pid: file.pid,
            time: file.time,
        });
        let image = file.image.map(Arc::new);
        let max_id = file.graph.classes.iter().map(|c| c.id).max().unwrap_or(0);
        let mut local = vec![u32::MAX; max_id as usize + 1];
        for class in file.graph.classes {
            local[class.id as usize] = self.class(
                &class.name,
                &class.kind,
                class.data_type.as_deref(),
                class.site,
            );
        }
        for edge in file.graph.edges {
            let (from, to) = (local[edge.from as usize], local[edge.to as usize]);
            let bits = edge.deps;
            let (index, new_bits) = match self.edge_index.get(&(from, to)) {
                Some(&index) => {
                    let e = &mut self.edges[index];
                    let new_bits = bits & !e.deps;
                    e.deps |= bits;
                    if e.processes.last() != Some(&process) {
                        e.processes.push(process);
                    }
                    (index, new_bits)
                }
                None => {
                    let index = self.edges.len();
                    self.edges.push(Edge {
                        from,
                        to,
                        deps: bits,
                        site: edge.site.map(Site::into_owned),
                        trace: match (edge.backtrace, edge.addresses) {
                            (Some(frames), _) => Trace::Frames(frames.to_owned()),
                            (None, addresses) => Trace::Addresses {
                                image: image.clone(),
                                addresses: addresses.map(RawValue::to_owned),
                            },
                        },
                        processes: vec![process],
                    });
                    self.edge_index.insert((from, to), index);
                    (index, bits)
                }
            };
            if new_bits == 0 {
                continue;
            }
            if let Some(path) = self.order.insert(from, to, new_bits) {
                self.cycle_found(index, &path);
            }
        }
        for (violation, raw) in violations.into_iter().zip(file.violations) {
            let key = violation_key(
                &violation.kind,
                violation
                    .classes
                    .iter()
                    .map(|c| (c.kind.as_str(), c.name.as_str())),
            );
            match self.recorded_index.get(&key) {
                Some(&i) => self.recorded[i].processes.push(process),
                None => {
                    self.recorded_index.insert(key, self.recorded.len());
                    self.recorded.push(Recorded {
                        violation,
                        raw: raw.to_owned(),
                        processes: vec![process],
                    });
                }
            }
        }
    }

    /// The merged id of a class, added if new.
    fn class(
        &mut self,
        name: &str,
        kind: &str,
        data_type: Option<&str>,
        site: Option<Site<'_>>,
    ) -> u32 {
        let next = self.classes.len() as u32;
        let id = *self
            .class_index
            .entry(class_key(name, kind, data_type))
            .or_insert(next);
        if id == next {
            self.classes.push(Class {
                name: name.to_owned(),
                kind: kind.to_owned(),
                data_type: data_type.map(str::to_owned),
                site: site.map(Site::into_owned),
            });
        }
        id
    }

    /// Classes of one name (one creation site, data of different types) are told apart by
    /// their data type, as the in-process reports do.
    fn disambiguate_names(&mut self) {
        let mut count: HashMap<(&str, &str), usize> = HashMap::new();
        for c in &self.classes {
            *count.entry((c.kind.as_str(), c.name.as_str())).or_default() += 1;
        }
        let shared: Vec<usize> = (0..self.classes.len())
            .filter(|&i| {
                let c = &self.classes[i];
                count[&(c.kind.as_str(), c.name.as_str())] > 1
            })
            .collect();
        for i in shared {
            let c = &mut self.classes[i];
            if let Some(data_type) = &c.data_type {
                c.name = with_data_type(&c.name, data_type);
            }
        }
    }

    /// Records the cycle that dependency `closing` closes along `path` (classes, from its
    /// acquired class back to its held class).
    fn cycle_found(&mut self, closing: usize, path: &[u32]) {
        let mut ring = vec![closing];
        ring.extend(
            path.windows(2)
                .filter_map(|pair| self.edge_index.get(&(pair[0], pair[1])).copied()),
        );
        self.cycles.push(Cycle {
            kind: cycle_kind(path.iter().map(|&c| self.classes[c as usize].kind.as_str())),
            ring,
            in_process: Vec::new(),
        });
    }

    /// A recorded violation that the merge found again is reported once, as the merge's
    /// (which names every contributing process), noting who had recorded it.
    fn fold_recorded_into_cycles(&mut self) {
        let keys: HashMap<ViolationKey, usize> = self
            .cycles
            .iter()
            .enumerate()
            .map(|(i, cycle)| {
                let key = violation_key(
                    cycle.kind,
                    cycle.classes(self).map(|c| {
                        let class = &self.classes[c as usize];
                        (class.kind.as_str(), class.name.as_str())
                    }),
                );
                (key, i)
            })
            .collect();
        let recorded = std::mem::take(&mut self.recorded);
        for r in recorded {
            let key = violation_key(
                &r.violation.kind,
                r.violation
                    .classes
                    .iter()
                    .map(|c| (c.kind.as_str(), c.name.as_str())),
            );
            match keys.get(&key) {
                Some(&i) => self.cycles[i].in_process.extend(r.processes),
                None => self.recorded.push(r),
            }
        }
        self.recorded_index.clear();
    }

    /// The merged id of the class `name` of `kind` (of data of type `data_type`, for a
    /// creation-site lock class), if merged.
    pub fn class_id(&self, name: &str, kind: &str, data_type: Option<&str>) -> Option<u32> {
        self.class_index
            .get(&class_key(name, kind, data_type))
            .copied()
    }

    /// Number of violations: cycles found by the merge and those only processes recorded.
    pub fn violation_count(&self) -> usize {
        self.cycles.len() + self.recorded.len()
    }

    /// Whether each class (by merged id) is on a reported cycle.
    pub fn on_cycle(&self) -> Vec<bool> {
        let mut on = vec![false; self.classes.len()];
        for cycle in &self.cycles {
            for c in cycle.classes(self) {
                on[c as usize] = true;
            }
        }
        on
    }

    /// Whether each dependency is on a reported cycle.
    pub fn edge_on_cycle(&self) -> Vec<bool> {
        let mut on = vec![false; self.edges.len()];
        for cycle in &self.cycles {
            for &e in &cycle.ring {
                on[e] = true;
            }
        }
        on
    }
}

/// The violation kind of a cycle through classes of `kinds`, as the checker's `cycle_kind`
/// judges one in-process: through `ALLOC` and a pool, `mempool_livelock` (which wins: the
/// livelock is the report with the remedy); else through an event, `wait_deadlock`; else
/// `circular_dependency`.
pub fn cycle_kind<'a>(kinds: impl Iterator<Item = &'a str>) -> &'static str {
    let (mut alloc, mut pool, mut event) = (false, false, false);
    for kind in kinds {
        match kind {
            "alloc" => alloc = true,
            "pool" => pool = true,
            "event" => event = true,
            _ => {}
        }
    }
    if alloc && pool {
        "mempool_livelock"
    } else if event {
        "wait_deadlock"
    } else {
        "circular_dependency"
    }
}

/// Files read and parsed at a time: enough to keep the threads busy, few enough to bound the
/// memory held.
const BATCH: usize = 64;

type Parsed<'a> = Result<(ReportFile<'a>, Vec<input::Violation>), BadFile>;

/// Parses and checks one report file.
fn parse(text: &str) -> Parsed<'_> {
    let file = input::parse(text)?;
    let violations = check(&file)?;
    Ok((file, violations))
}

/// Parses `texts` on `threads` threads, each a contiguous share; the results in order.
fn parse_all(texts: &[String], threads: usize) -> Vec<Parsed<'_>> {
    if threads <= 1 || texts.len() <= 1 {
        return texts.iter().map(|t| parse(t)).collect();
    }
    let share = texts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = texts
            .chunks(share)
            .map(|chunk| scope.spawn(move || chunk.iter().map(|t| parse(t)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("parsing does not panic"))
            .collect()
    })
}

/// Checks what the merge relies on before anything of a file is merged: every edge names a
/// listed class, every violation has the fields read.
fn check(file: &ReportFile<'_>) -> Result<Vec<input::Violation>, BadFile> {
    let corrupt = |what: String| BadFile::Corrupt(serde::de::Error::custom(what));
    let max_id = file.graph.classes.iter().map(|c| c.id).max().unwrap_or(0);
    if max_id > 4 * file.graph.classes.len() as u64 + 1024 {
        return Err(corrupt(format!("class id {max_id} is out of range")));
    }
    let mut listed = vec![false; max_id as usize + 1];
    for class in &file.graph.classes {
        listed[class.id as usize] = true;
    }
    for edge in &file.graph.edges {
        for id in [edge.from, edge.to] {
            if !listed.get(id as usize).copied().unwrap_or(false) {
                return Err(corrupt(format!(
                    "an edge names class {id}, which is not listed"
                )));
            }
        }
    }
    file.violations
        .iter()
        .map(|raw| serde_json::from_str(raw.get()).map_err(BadFile::Corrupt))
        .collect()
}
