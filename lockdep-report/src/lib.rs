//! # lockdep-report
//!
//! lockdep's reports and the rules they follow, in one
//! place for the checker (`lockdep-core`, which finds violations in one process) and for
//! `cargo lockdep` (which merges many processes' report files into one graph):
//!
//! - what a violation is about ([`ViolationKind`], with its [`headline`](ViolationKind::headline)),
//!   what a node of the graph stands for ([`NodeKind`]), how a lock is taken ([`Access`]), and
//!   which kind a cycle is ([`cycle_kind`]);
//! - the dependency order that finds the cycles ([`DependencyOrder`], with the dependency types
//!   of [`dep`]): strong paths in the kernel's read/write-aware sense;
//! - which frames of a stack a report shows and how it writes their files ([`shown`],
//!   [`short_path`]), and how a type is named ([`with_data_type`]);
//! - the report model ([`Report`]) and its renderers: the kernel-style text (`Display`) and
//!   Graphviz DOT ([`dot`]);
//! - the suppression file (`lockdep.toml`: [`Suppressions`], its class patterns [`Glob`]),
//!   read by a small parser of the subset of TOML it is written in.
//!
//! It depends on nothing: neither the locks nor the checker come with it.
//!
//! ```
//! use lockdep_report::{dep, Body, Class, Dependency, FoundBy, NodeKind, Report, ViolationKind};
//!
//! let (a, b) = (Class::new("a", NodeKind::Lock, None), Class::new("b", NodeKind::Lock, None));
//! let ring = vec![
//!     Dependency::new(a.clone(), b.clone(), dep::EN, None, Vec::new()),
//!     Dependency::new(b, a, dep::EN, None, Vec::new()),
//! ];
//! let report = Report::new(
//!     ViolationKind::CircularDependency,
//!     Body::Cycle { found_by: FoundBy::Merge { processes: 2 }, ring },
//! );
//! let text = report.to_string();
//! assert!(text.contains("WARNING: possible circular locking dependency detected"));
//! assert!(text.contains("       CPU0                    CPU1\n"));
//! assert!(text.contains(" *** DEADLOCK ***"));
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![forbid(unsafe_code)]

mod access;
pub mod dot;
mod frames;
mod glob;
mod kind;
mod model;
mod order;
mod suppress;
mod text;
mod toml_subset;
mod type_name;

pub use access::Access;
pub use frames::{is_user, short_file, short_path, shown, source_root, test_closure};
pub use glob::Glob;
pub use kind::{cycle_kind, NodeKind, ViolationKind};
pub use model::{Body, Class, Dependency, FoundBy, Frame, Held, Lock, Report, Site, Wait};
pub use order::{dep, DependencyOrder};
pub use suppress::{Suppression, SuppressionError, Suppressions};
pub use text::{site_text, title};
pub use type_name::with_data_type;
