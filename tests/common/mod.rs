//! Helpers shared by the end-to-end tests. Every test binary shares one graph among its
//! tests, so each test makes classes of its own and looks only at violations about them.
#![allow(dead_code)] // each test binary uses some of these

use lockdep::{LockClass, Violation, ViolationKind};

/// A class of its own for one test (the name must be unique in the test binary).
pub fn class(name: &str) -> &'static LockClass {
    LockClass::leak(name.to_owned())
}

/// Kinds of the recorded violations that involve `name`, in recording order.
pub fn kinds(name: &str) -> Vec<ViolationKind> {
    lockdep::violations()
        .iter()
        .filter(|v| v.involves(name))
        .map(|v| v.kind())
        .collect()
}

/// The first recorded violation that involves `name`.
pub fn find(name: &str) -> Violation {
    lockdep::violations()
        .into_iter()
        .find(|v| v.involves(name))
        .unwrap_or_else(|| panic!("no violation involving {name}"))
}
