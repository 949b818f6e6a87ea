//! The public face of a recorded problem. Written once for both builds: without the `enabled`
//! feature a `Violation` is uninhabited (none can exist), so its methods are never called.

use std::fmt;

use lockdep_report::ViolationKind;

#[cfg(feature = "enabled")]
use crate::checker::entry::{self, ViolationData};

/// One problem found by the checker: a possible deadlock, a mempool livelock, recursive
/// locking, or a bookkeeping fault.
///
/// `Display` prints the kernel-style report (stack traces are resolved then, once);
/// [`to_json`](Violation::to_json) gives the same for tools (its schema is `book/src/json.md` in
/// the repository).
///
/// # Examples
///
/// ```
/// use lockdep::{LockClass, Mode, Mutex, ViolationKind};
/// lockdep::set_mode(Mode::Collect);
///
/// static A: LockClass = LockClass::new("doc-violation-A");
/// static B: LockClass = LockClass::new("doc-violation-B");
/// let (a, b) = (Mutex::with_class((), &A), Mutex::with_class((), &B));
/// drop((a.lock(), b.lock()));
/// { let _b = b.lock(); let _a = a.lock(); }
///
/// # #[cfg(feature = "enabled")] {
/// let v = lockdep::take_violations()
///     .into_iter()
///     .find(|v| v.involves("doc-violation-A"))
///     .expect("reported");
/// assert_eq!(v.kind(), ViolationKind::CircularDependency);
/// assert!(v.involves("doc-violation-B"));
/// assert!(v.to_string().contains("WARNING: possible circular locking dependency detected"));
/// assert!(v.to_json().contains("\"kind\":\"circular_dependency\""));
/// # }
/// ```
#[derive(Clone)]
pub struct Violation(Repr);

#[cfg(feature = "enabled")]
type Repr = std::sync::Arc<ViolationData>;

/// No violation exists without the checker.
#[cfg(not(feature = "enabled"))]
#[derive(Clone)]
enum Repr {}

/// Evaluates `$body` with `$data` bound to the violation's data; without the checker there
/// is no violation to call it on.
macro_rules! with_data {
    ($violation:expr, |$data:ident| $body:expr) => {{
        #[cfg(feature = "enabled")]
        {
            let $data: &ViolationData = &$violation.0;
            $body
        }
        #[cfg(not(feature = "enabled"))]
        match $violation.0 {}
    }};
}

// Without the checker the bodies are `match self.0 {}`: arguments go unused.
#[cfg_attr(not(feature = "enabled"), allow(unused_variables))]
impl Violation {
    #[cfg(feature = "enabled")]
    pub(crate) fn new(data: Repr) -> Violation {
        Violation(data)
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ViolationKind {
        with_data!(self, |data| data.kind)
    }

    /// True when a class of this name is on the reported chain. A subclass (printed `name/N`)
    /// matches its class's name; a creation-site class is named `path/file.rs:LINE:COL`.
    pub fn involves(&self, name: &str) -> bool {
        with_data!(self, |data| data.involves(name))
    }

    /// Names of the classes the violation is about, in chain order.
    pub fn classes(&self) -> Vec<&'static str> {
        with_data!(self, |data| data.class_names())
    }

    /// The name of the thread that found the problem, as `name/tid`.
    pub fn thread(&self) -> &str {
        with_data!(self, |data| &data.thread)
    }

    /// The first line of the report, e.g. `possible circular locking dependency detected`.
    pub fn headline(&self) -> &'static str {
        with_data!(self, |data| data.kind.headline())
    }

    /// The violation as one JSON object: its kind, the classes it is about (`{"id","name",
    /// "kind","site","type"}` each), the acquisitions involved (how each lock was held, as `write`,
    /// `read` or `recursive_read`, and where), the cycle with each dependency's site and
    /// backtrace, and the text report. Every field is described in `book/src/json.md` in the
    /// repository.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, Mode, RwLock};
    /// lockdep::set_mode(Mode::Collect);
    ///
    /// static X: LockClass = LockClass::new("doc-json-X");
    /// let (x1, x2) = (RwLock::with_class((), &X), RwLock::with_class((), &X));
    /// { let _a = x1.write(); let _b = x2.read(); } // two locks of class X, in one order...
    /// { let _b = x2.write(); let _a = x1.read(); } // ...and in the other: a deadlock
    ///
    /// # #[cfg(feature = "enabled")] {
    /// let v = lockdep::take_violations()
    ///     .into_iter()
    ///     .find(|v| v.involves("doc-json-X"))
    ///     .expect("reported");
    /// let json = v.to_json();
    /// assert!(json.starts_with("{\"kind\":\"circular_dependency\""));
    /// assert!(json.contains("\"name\":\"doc-json-X\",\"kind\":\"lock\""));
    /// assert!(json.contains("\"access\":\"read\""));
    /// # }
    /// ```
    pub fn to_json(&self) -> String {
        with_data!(self, |data| entry::violation_json(data))
    }

    /// The cycle of this violation as a Graphviz DOT digraph (an empty graph for kinds that
    /// have no cycle).
    pub fn to_dot(&self) -> String {
        with_data!(self, |data| entry::violation_dot(data))
    }
}

#[cfg_attr(not(feature = "enabled"), allow(unused_variables))]
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_data!(self, |data| fmt::Display::fmt(
            &entry::violation_text(data),
            f
        ))
    }
}

impl fmt::Debug for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Violation")
            .field("kind", &self.kind())
            .field("classes", &self.classes())
            .field("thread", &self.thread())
            .finish()
    }
}
