//! A violation as the report model of `lockdep-report` ([`model`]), which renders it as the
//! kernel prints it; [`Report`] keeps that text once rendered.

use std::fmt;
use std::panic::Location;

use lockdep_report as model;
use lockdep_report::{dep, Site};

use super::registry;
use super::stack_trace::StackTrace;
use super::types::{ClassId, ALLOCATOR_SITE};
use super::violation::{Detail, Link, LockDesc, ViolationData};

/// A violation's kernel-style text. Rendering resolves stack traces, which is slow: the text
/// is kept in the violation once rendered, so `Display` writes it from there.
pub(crate) struct Report<'a>(pub &'a ViolationData);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.rendered.get_or_init(|| model(self.0).to_string());
        f.write_str(text)
    }
}

/// The full text report of `violations`: a count, then each report (empty when there is
/// none).
pub(crate) fn full(violations: &[std::sync::Arc<ViolationData>]) -> String {
    if violations.is_empty() {
        return String::new();
    }
    let mut out = format!("lockdep: {} violation(s) recorded\n\n", violations.len());
    for v in violations {
        out.push_str(&Report(v).to_string());
        out.push('\n');
    }
    out
}

/// Where an acquisition happened: its site, or, for an allocation seen by `TrackingAllocator`
/// (whose site is the allocator itself), the first frame of the user's code in `trace`;
/// `None` when the trace has no such frame.
pub(crate) fn source_site_of(site: &'static Location<'static>, trace: &StackTrace) -> Option<Site> {
    own_site(site).or_else(|| trace.user_site())
}

/// `site` as reports show it, unless it is the allocator's (an allocation seen by
/// `TrackingAllocator`, whose site only its trace tells).
pub(crate) fn own_site(site: &'static Location<'static>) -> Option<Site> {
    (*site != *ALLOCATOR_SITE).then(|| registry::source_site(site))
}

/// A tokio task as reports name it.
pub(crate) fn task_name(task: u64) -> String {
    format!("task {task}")
}

/// `class` as a report names it.
pub(crate) fn class(class: ClassId) -> model::Class {
    let info = registry::info(class);
    model::Class {
        name: registry::display_name(class).to_owned(),
        kind: info.kind,
        site: info.site.map(registry::source_site),
    }
}

/// A held or wanted lock; `trace` names the user's frame for an allocation's site.
fn lock_at(d: &LockDesc, trace: &StackTrace) -> model::Lock {
    model::Lock {
        class: class(d.class),
        access: d.access,
        count: d.count,
        site: source_site_of(d.site, trace),
    }
}

/// A held entry, whose site is never the allocator's.
fn lock(d: &LockDesc) -> model::Lock {
    lock_at(d, &StackTrace::default())
}

/// One dependency of a cycle, its stack as `frames` gives it.
fn dependency(link: &Link, frames: fn(&StackTrace) -> Vec<model::Frame>) -> model::Dependency {
    model::Dependency::new(
        class(link.from),
        class(link.to),
        link.deps,
        source_site_of(link.site, &link.trace),
        frames(&link.trace),
    )
}

/// The report of `data`, its stack traces resolved.
pub(crate) fn model(data: &ViolationData) -> model::Report {
    model_with(data, StackTrace::frames)
}

/// The report of `data`, without the stacks of its dependencies (for a picture of its cycle:
/// resolving them is the slow part of a report).
pub(crate) fn model_without_stacks(data: &ViolationData) -> model::Report {
    model_with(data, |_| Vec::new())
}

fn model_with(data: &ViolationData, frames: fn(&StackTrace) -> Vec<model::Frame>) -> model::Report {
    let thread = data.thread.clone();
    let (body, backtrace) = match &data.detail {
        Detail::Cycle {
            trying,
            holding,
            ring,
        } => {
            let mut ring: Vec<model::Dependency> =
                ring.iter().map(|l| dependency(l, frames)).collect();
            // How the closing dependency's classes are held and wanted is known exactly.
            ring[0].held = holding.access;
            ring[0].wanted = trying.access;
            debug_assert_eq!(ring[0].deps, dep::of(holding.access, trying.access));
            let found_by = model::FoundBy::Thread {
                thread,
                trying: lock_at(trying, &data.trace),
                holding: lock(holding),
            };
            (
                model::Body::Cycle { found_by, ring },
                Some(frames(&data.trace)),
            )
        }
        Detail::Recursive { trying, holding } => (
            model::Body::Recursive {
                thread,
                trying: lock_at(trying, &data.trace),
                holding: lock(holding),
            },
            Some(frames(&data.trace)),
        ),
        Detail::HeldAtExit => (model::Body::HeldAtExit { thread }, None),
        Detail::PoolOutstanding {
            pool,
            outstanding,
            site,
        } => {
            let mut pool = class(*pool);
            pool.site.get_or_insert_with(|| registry::source_site(site));
            let outstanding = *outstanding;
            (
                model::Body::PoolOutstanding {
                    thread,
                    pool,
                    outstanding,
                },
                None,
            )
        }
        Detail::DeclaredOrder {
            trying,
            holding,
            trying_key,
            holding_key,
        } => (
            model::Body::DeclaredOrder {
                thread,
                trying: lock_at(trying, &data.trace),
                holding: lock(holding),
                trying_key: *trying_key,
                holding_key: *holding_key,
            },
            Some(frames(&data.trace)),
        ),
        Detail::HeldAcrossAwait {
            task,
            class: lock_class,
            site,
            next,
        } => {
            let body = model::Body::HeldAcrossAwait {
                task: task_name(*task),
                lock: model::Lock {
                    class: class(*lock_class),
                    access: lockdep_report::Access::Write,
                    count: 1,
                    site: own_site(site),
                },
                next: match *next {
                    0 => "the thread's own code (no task)".to_owned(),
                    next => task_name(next),
                },
                thread,
            };
            // What the reporting context holds says nothing about the task that suspended.
            return model::Report::new(data.kind, body);
        }
        Detail::Hang {
            timeout,
            waiters,
            cycle,
        } => {
            let ms = |d: &std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            let waits = waiters
                .iter()
                .map(|w| model::Wait {
                    who: w.who.clone(),
                    waiting_for: lock(&w.waiting_for),
                    waited_ms: ms(&w.waited),
                    held: w.held.iter().map(lock).collect(),
                })
                .collect();
            let body = model::Body::Hang {
                timeout_ms: ms(timeout),
                waits,
                cycle: cycle.clone(),
            };
            return model::Report::new(data.kind, body);
        }
        Detail::Overflow { what, limit } => (
            model::Body::Overflow {
                what: (*what).to_owned(),
                limit: *limit,
            },
            None,
        ),
    };
    model::Report {
        held: Some(model::Held {
            thread: data.thread.clone(),
            locks: data.held.iter().map(lock).collect(),
        }),
        backtrace,
        ..model::Report::new(data.kind, body)
    }
}
