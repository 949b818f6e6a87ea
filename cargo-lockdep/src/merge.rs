//! Stage 3 of the pipeline: one graph from many processes' parsed report files, judged by the
//! in-process rules.
//!
//! Classes are the same class in two processes when their `name`, `kind` and data type are; a
//! dependency is the union of its dependency types over every process that recorded it. Every
//! new dependency (or new type of a known one) goes through lockdep's own
//! [`DependencyOrder`], in a fixed order (files sorted by path, edges in file order), so a
//! cycle across processes is found exactly as the checker would have found it had one process
//! taken every lock: strong paths only, reported when its classes *become* cyclic, the
//! closing dependency kept. Violations the processes recorded themselves are kept too, once
//! per kind and classes. Stack traces are kept as the processes wrote them: resolving them is
//! the next stage's, for the few that reports show.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use lockdep_report::{cycle_kind, with_data_type, DependencyOrder, NodeKind, Site, ViolationKind};
use serde_json::value::RawValue;

use crate::parse::{self, BadFile, Image, Parsed, ReportFile};

/// A class of the merged graph; its index is its merged id.
pub(crate) struct Class {
    /// The name reports print: as the report files name it, with the data type of a
    /// creation-site lock class (`src/bank.rs:40:20 Mutex<Ledger>`).
    pub(crate) name: String,
    /// The name as the report files wrote it (a creation-site class's site alone).
    pub(crate) written: String,
    pub(crate) kind: NodeKind,
    /// The type of a creation-site lock class's data (`core::any::type_name`).
    pub(crate) data_type: Option<String>,
    pub(crate) site: Option<Site>,
}

/// A process that wrote a report file.
pub(crate) struct Process {
    pub(crate) path: PathBuf,
    pub(crate) binary: Option<String>,
    pub(crate) test: Option<String>,
    pub(crate) pid: u64,
    pub(crate) time: Option<u64>,
    /// The binary its traces' addresses are in, when it left them for the merge to resolve.
    pub(crate) image: Option<Arc<Image>>,
}

/// A dependency of the merged graph, with where it was first seen (in merge order) and every
/// process that recorded it.
pub(crate) struct Edge {
    pub(crate) from: u32,
    pub(crate) to: u32,
    pub(crate) deps: u8,
    /// Where it was acquired, as its first process wrote it: `None` for an allocation whose
    /// site only its (resolved) trace tells.
    pub(crate) site: Option<Site>,
    pub(crate) trace: Trace,
    /// Indices into [`Merged::processes`], in merge order, each once.
    pub(crate) processes: Vec<u32>,
}

/// A dependency's stack trace, as its first process wrote it.
pub(crate) enum Trace {
    /// Resolved by the process: the JSON array of frames.
    Frames(Box<RawValue>),
    /// Addresses in the process's binary (none when the file named no binary), to be
    /// resolved when a report shows them.
    Addresses {
        image: Option<Arc<Image>>,
        addresses: Option<Box<RawValue>>,
    },
}

/// A cycle the merge found.
pub(crate) struct Cycle {
    /// As [`cycle_kind`] judges it.
    pub(crate) kind: ViolationKind,
    /// The dependencies (indices into [`Merged::edges`]): the closing one first, then the
    /// path it closes, from its acquired class back to its held class.
    pub(crate) ring: Vec<usize>,
    /// Processes that had recorded this very violation themselves.
    pub(crate) in_process: Vec<u32>,
}

impl Cycle {
    /// The classes in chain order: the closing dependency's acquired class first.
    pub(crate) fn classes<'a>(&'a self, merged: &'a Merged) -> impl Iterator<Item = u32> + 'a {
        self.ring.iter().map(|&e| merged.edges[e].to)
    }
}

/// A violation a process recorded itself, kept once per kind and classes.
pub(crate) struct Recorded {
    pub(crate) violation: parse::Violation,
    /// The JSON object as the process wrote it.
    pub(crate) raw: Box<RawValue>,
    /// The processes that recorded it, the first one's copy kept.
    pub(crate) processes: Vec<u32>,
}

/// Every report file merged.
#[derive(Default)]
pub(crate) struct Merged {
    pub(crate) processes: Vec<Process>,
    pub(crate) classes: Vec<Class>,
    pub(crate) edges: Vec<Edge>,
    pub(crate) cycles: Vec<Cycle>,
    pub(crate) recorded: Vec<Recorded>,
    /// Violations the suppression file suppressed (taken out of `cycles` and `recorded`).
    pub(crate) suppressed: Vec<Suppressed>,
    /// Files skipped, with why.
    pub(crate) bad: Vec<(PathBuf, BadFile)>,
    class_index: HashMap<ClassKey, u32>,
    edge_index: HashMap<(u32, u32), usize>,
    order: DependencyOrder,
    recorded_index: HashMap<ViolationKey, usize>,
}

/// A violation an entry suppressed.
pub(crate) struct Suppressed {
    pub(crate) kind: ViolationKind,
    /// Its classes, as reports name them.
    pub(crate) classes: Vec<String>,
    /// The entry's line and reason.
    pub(crate) line: usize,
    pub(crate) reason: String,
}

/// What makes two classes one: name, kind and data type.
type ClassKey = (String, NodeKind, Option<String>);

/// What makes two violations the same: their kind and their classes, in any order.
type ViolationKey = (ViolationKind, Vec<(NodeKind, String)>);

fn violation_key<'a>(
    kind: ViolationKind,
    classes: impl Iterator<Item = (NodeKind, &'a str)>,
) -> ViolationKey {
    let mut classes: Vec<(NodeKind, String)> = classes
        .map(|(kind, name)| (kind, name.to_owned()))
        .collect();
    classes.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    classes.dedup();
    (kind, classes)
}

impl Merged {
    /// Merges a batch of parsed files, in order; a file that could not be read or parsed is
    /// recorded in [`bad`](Merged::bad).
    pub(crate) fn add(&mut self, batch: Vec<(PathBuf, Parsed<'_>)>) {
        for (path, parsed) in batch {
            match parsed {
                Ok((file, violations)) => self.add_file(path, file, violations),
                Err(bad) => self.bad.push((path, bad)),
            }
        }
    }

    /// The merge of every file added: recorded violations that the merge found again folded
    /// into its cycles, classes named with their data type.
    pub(crate) fn finish(mut self) -> Merged {
        self.fold_recorded_into_cycles();
        self.name_with_data_types();
        self
    }

    fn add_file(&mut self, path: PathBuf, file: ReportFile<'_>, violations: Vec<parse::Violation>) {
        let process = self.processes.len() as u32;
        let image = file.image.map(Arc::new);
        self.processes.push(Process {
            path,
            binary: file.binary.map(|b| b.into_owned()),
            test: file.test.map(|t| t.into_owned()),
            pid: file.pid,
            time: file.time,
            image: image.clone(),
        });
        let max_id = file.graph.classes.iter().map(|c| c.id).max().unwrap_or(0);
        let mut local = vec![u32::MAX; max_id as usize + 1];
        for class in file.graph.classes {
            local[class.id as usize] = self.class(
                &class.name,
                class.kind,
                class.data_type.as_deref(),
                class.site.as_ref().map(parse::Site::to_model),
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
                        site: edge.site.as_ref().map(parse::Site::to_model),
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
                violation.kind,
                violation.classes.iter().map(|c| (c.kind, c.name.as_str())),
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
        kind: NodeKind,
        data_type: Option<&str>,
        site: Option<Site>,
    ) -> u32 {
        let next = self.classes.len() as u32;
        let data_type = data_type.filter(|t| !t.is_empty());
        let key = (name.to_owned(), kind, data_type.map(str::to_owned));
        let id = *self.class_index.entry(key).or_insert(next);
        if id == next {
            self.classes.push(Class {
                name: name.to_owned(),
                written: name.to_owned(),
                kind,
                data_type: data_type.map(str::to_owned),
                site,
            });
        }
        id
    }

    /// A creation-site lock class is printed with the type of its data, as the in-process
    /// reports print it: the site says where its locks are made, not what they protect.
    fn name_with_data_types(&mut self) {
        for c in &mut self.classes {
            if let Some(data_type) = &c.data_type {
                c.name = with_data_type(&c.written, data_type);
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
            kind: cycle_kind(path.iter().map(|&c| self.classes[c as usize].kind)),
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
                        (class.kind, class.name.as_str())
                    }),
                );
                (key, i)
            })
            .collect();
        let recorded = std::mem::take(&mut self.recorded);
        for r in recorded {
            let key = violation_key(
                r.violation.kind,
                r.violation
                    .classes
                    .iter()
                    .map(|c| (c.kind, c.name.as_str())),
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
    pub(crate) fn class_id(
        &self,
        name: &str,
        kind: NodeKind,
        data_type: Option<&str>,
    ) -> Option<u32> {
        let data_type = data_type.filter(|t| !t.is_empty());
        self.class_index
            .get(&(name.to_owned(), kind, data_type.map(str::to_owned)))
            .copied()
    }

    /// Number of violations: cycles found by the merge and those only processes recorded.
    pub(crate) fn violation_count(&self) -> usize {
        self.cycles.len() + self.recorded.len()
    }

    /// Whether each class (by merged id) is on a reported cycle.
    pub(crate) fn on_cycle(&self) -> Vec<bool> {
        let mut on = vec![false; self.classes.len()];
        for cycle in &self.cycles {
            for c in cycle.classes(self) {
                on[c as usize] = true;
            }
        }
        on
    }

    /// Whether each dependency is on a reported cycle.
    pub(crate) fn edge_on_cycle(&self) -> Vec<bool> {
        let mut on = vec![false; self.edges.len()];
        for cycle in &self.cycles {
            for &e in &cycle.ring {
                on[e] = true;
            }
        }
        on
    }
}
