//! The report model: what a violation is about, as data that both the checker (from what one
//! process found) and `cargo lockdep` (from a cycle of the merged graph) build, and that the
//! renderers ([`text`](crate::text), [`dot`](crate::dot)) turn into the kernel-style report
//! and a picture. Every name is as a report prints it; every trace is already resolved.

use std::borrow::Cow;
use std::fmt;

use crate::{dep, Access, NodeKind, ViolationKind};

/// A position in the source as reports show it: `file:line:column` (`file:line` when the
/// debug information has no column). Paths are shortened for people: workspace files
/// relative, registry crates as `name-1.2.3/src/file.rs` ([`short_path`](crate::short_path)).
///
/// # Examples
///
/// ```
/// use lockdep_report::Site;
///
/// assert_eq!(Site::new("src/db.rs", 40, Some(19)).to_string(), "src/db.rs:40:19");
/// assert_eq!(Site::new("src/db.rs", 40, None).to_string(), "src/db.rs:40");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Site {
    /// The file, shortened.
    pub file: Cow<'static, str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, when known.
    pub column: Option<u32>,
}

impl Site {
    /// A site in `file`.
    pub fn new(file: impl Into<Cow<'static, str>>, line: u32, column: Option<u32>) -> Site {
        Site {
            file: file.into(),
            line,
            column,
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        match self.column {
            Some(column) => write!(f, ":{column}"),
            None => Ok(()),
        }
    }
}

/// One resolved frame of a stack trace: its function, demangled without the hash, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The function (an unresolved frame is named by its address, `0x…`).
    pub function: String,
    /// Where in the function, when the debug information tells.
    pub site: Option<Site>,
}

impl Frame {
    /// The frame's file, when known.
    pub fn file(&self) -> Option<&str> {
        self.site.as_ref().map(|s| &*s.file)
    }
}

/// A class as a report names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Class {
    /// As printed: the `LockClass` or pool name, or the creation site (with the data's type
    /// when two classes share a site), `/N` for a nesting subclass.
    pub name: String,
    /// What the class stands for.
    pub kind: NodeKind,
    /// Where a creation-site class (or a named pool) was created.
    pub site: Option<Site>,
}

impl Class {
    /// A class named `name`.
    pub fn new(name: impl Into<String>, kind: NodeKind, site: Option<Site>) -> Class {
        Class {
            name: name.into(),
            kind,
            site,
        }
    }

    /// Whether this is an event (never held: waited for and notified).
    pub fn is_event(&self) -> bool {
        self.kind == NodeKind::Event
    }
}

/// A lock held or wanted by the reporting thread (or task): how, how many (a pool's
/// elements), and where it was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    /// Its class.
    pub class: Class,
    /// How it is held or wanted.
    pub access: Access,
    /// Units held (a counted class's elements or permits); 1 for a lock.
    pub count: u16,
    /// Where it was taken; `None` for an allocation through `TrackingAllocator` whose
    /// stack has no frame of the user's code.
    pub site: Option<Site>,
}

/// One dependency `from → to` of a cycle: "`to` was acquired (or waited for) while `from`
/// was held".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    /// The class held.
    pub from: Class,
    /// The class acquired.
    pub to: Class,
    /// The dependency types seen ([`dep`] bits).
    pub deps: u8,
    /// How `from` was held and `to` acquired: exactly, for the acquisition a thread was
    /// making when it found the cycle; else as [`dep::accesses`] tells from the types.
    pub held: Access,
    /// See [`held`](Dependency::held).
    pub wanted: Access,
    /// Where `to` was acquired; `None` for an allocation with no frame of the user's code.
    pub site: Option<Site>,
    /// The stack when the dependency was first recorded, as a report shows it.
    pub frames: Vec<Frame>,
    /// Who recorded it, when a merge of many processes found the cycle.
    pub recorded_by: Option<String>,
}

impl Dependency {
    /// A dependency of types `deps`, its accesses as the types tell.
    pub fn new(from: Class, to: Class, deps: u8, site: Option<Site>, frames: Vec<Frame>) -> Self {
        let (held, wanted) = dep::accesses(deps);
        Dependency {
            from,
            to,
            deps,
            held,
            wanted,
            site,
            frames,
            recorded_by: None,
        }
    }

    /// `ALLOC → pool` recorded when the pool was created (at its own creation site): every
    /// pool on the reclaim path has it, nobody's acquisition made it.
    pub fn is_reclaim_path(&self) -> bool {
        self.from.kind == NodeKind::Alloc
            && self.to.kind == NodeKind::Pool
            && self.to.site.is_some()
            && self.to.site == self.site
    }
}

/// Who found a cycle.
// A report is built once, to be printed: the size of its parts does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoundBy {
    /// A thread, acquiring `trying` while holding `holding` (the new dependency).
    Thread {
        /// `name/tid`.
        thread: String,
        /// What the thread was acquiring (for a notify: what it took on its way to it).
        trying: Lock,
        /// What it held (for a notify: the event being notified).
        holding: Lock,
    },
    /// The merge of `processes` processes' report files.
    Merge {
        /// How many processes recorded the cycle's dependencies.
        processes: usize,
    },
}

/// Why a cycle's closing dependency counted only later than it was made, and what made it
/// count (lockdep's rules beyond the kernel's: `book/src/rules.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeldBack {
    /// The closing dependency is a non-recursive read, which waits behind a writer only once
    /// one waits for its class: `write` is the first writer to wait (its site, when known).
    FirstWrite {
        /// The class written, as the first writer took it.
        write: Lock,
    },
    /// The closing dependency was made at the first acquisition of its lock, which may have
    /// been before anyone else could reach it: `by` is the lock's next acquisition, by the
    /// thread that first took it (`by_holder`: it kept the lock), or by another one that had
    /// not taken the held class before (it reached the lock without it); `None` when it
    /// counts because it closes a cycle while one thread alone has taken the held class.
    FirstHold {
        /// The next acquisition of the lock, if that made it count.
        by: Option<Lock>,
        /// Whether by the thread that first took it.
        by_holder: bool,
    },
}

/// What a report is about, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A cycle of dependencies: `ring[0]` is the new dependency that closed it, `ring[1..]`
    /// the existing path from its acquired class back to its held class.
    Cycle {
        /// Who found it.
        found_by: FoundBy,
        /// The dependencies.
        ring: Vec<Dependency>,
        /// Until what the closing dependency was held back, if it was: then it was made
        /// earlier than the cycle was found.
        held_back: Option<HeldBack>,
    },
    /// `trying` is of a class already held as `holding` by `thread`.
    Recursive {
        /// `name/tid`.
        thread: String,
        /// The acquisition.
        trying: Lock,
        /// The hold it would wait for.
        holding: Lock,
    },
    /// `thread` exited while holding locks (the report's held list).
    HeldAtExit {
        /// `name/tid`.
        thread: String,
    },
    /// `thread` dropped a pool with elements outstanding.
    PoolOutstanding {
        /// `name/tid`.
        thread: String,
        /// The pool.
        pool: Class,
        /// Elements not returned.
        outstanding: usize,
    },
    /// `trying` (declared order key `trying_key`) taken while `holding` (key `holding_key`,
    /// not less), two locks of one class that nest by increasing key.
    DeclaredOrder {
        /// `name/tid`.
        thread: String,
        /// The acquisition.
        trying: Lock,
        /// The lock of its class held.
        holding: Lock,
        /// Their keys.
        trying_key: u64,
        /// See `trying_key`.
        holding_key: u64,
    },
    /// A task suspended holding a blocking lock.
    HeldAcrossAwait {
        /// The task, as reports name one (`task 12`).
        task: String,
        /// The blocking lock it held (the latest one it took), and where it took it.
        lock: Lock,
        /// What ran next on the task's thread: another task, or the thread's own code.
        next: String,
        /// The thread, `name/tid`.
        thread: String,
    },
    /// A wait lasted longer than the watchdog allows.
    Hang {
        /// The watchdog's limit, in milliseconds.
        timeout_ms: u64,
        /// Every wait in progress, the longest first.
        waits: Vec<Wait>,
        /// Waits (by index) that form a cycle, each waiting for what the next holds: a
        /// deadlock; empty if there is none among them.
        cycle: Vec<usize>,
    },
    /// A table of the checker overflowed.
    Overflow {
        /// Which table.
        what: String,
        /// Its size.
        limit: usize,
    },
}

/// One wait in progress when the watchdog fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    /// The thread or task waiting.
    pub who: String,
    /// What it waits for, and where it asked.
    pub waiting_for: Lock,
    /// For how long, in milliseconds.
    pub waited_ms: u64,
    /// What it held when it began to wait, bottom first.
    pub held: Vec<Lock>,
}

/// The locks a thread held when the report was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// `name/tid`.
    pub thread: String,
    /// Bottom first.
    pub locks: Vec<Lock>,
}

/// One report: what [`text`](crate::text) prints as the kernel does, and
/// [`dot`](crate::dot) draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// What kind of violation.
    pub kind: ViolationKind,
    /// What it is about.
    pub body: Body,
    /// The reporting thread's held locks, when one thread made the report.
    pub held: Option<Held>,
    /// The reporting thread's stack, when one thread made the report.
    pub backtrace: Option<Vec<Frame>>,
    /// Lines added at the end (who else recorded it, …).
    pub notes: Vec<String>,
}

impl Report {
    /// A report of `kind` about `body`, with nothing else.
    pub fn new(kind: ViolationKind, body: Body) -> Report {
        Report {
            kind,
            body,
            held: None,
            backtrace: None,
            notes: Vec::new(),
        }
    }

    /// The classes the report is about: the cycle's (in chain order, the closing
    /// dependency's acquired class first), the recursive class, the pool, the leaked locks.
    pub fn classes(&self) -> Vec<&Class> {
        match &self.body {
            Body::Cycle { ring, .. } => ring.iter().map(|d| &d.to).collect(),
            Body::Recursive { trying, .. } | Body::DeclaredOrder { trying, .. } => {
                vec![&trying.class]
            }
            Body::PoolOutstanding { pool, .. } => vec![pool],
            Body::HeldAcrossAwait { lock, .. } => vec![&lock.class],
            Body::Hang { waits, .. } => waits.iter().map(|w| &w.waiting_for.class).collect(),
            Body::HeldAtExit { .. } => self
                .held
                .iter()
                .flat_map(|h| h.locks.iter().map(|l| &l.class))
                .collect(),
            Body::Overflow { .. } => Vec::new(),
        }
    }
}
