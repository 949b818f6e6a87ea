//! Every scenario of `tests/faults_abuse.rs` again, with `TrackingAllocator` as the global
//! allocator: every allocation (the panic machinery's, thread teardown's, the checker's own
//! reports) is a `might_alloc()`. No recursion into the checker, no deadlock with its own locks.
#![cfg(feature = "enabled")]

#[global_allocator]
static ALLOCATOR: lockdep::TrackingAllocator = lockdep::TrackingAllocator;

#[path = "faults_abuse.rs"]
mod faults_abuse;
