//! Mempools for lockdep (work in progress).
