//! The checker proper (built with the `enabled` feature), in layers that only look down:
//!
//! 1. plain types: [`types`], [`stack_trace`] (walked by [`unwind`]), [`chain_key`], the
//!    tables' [`fast_hash`];
//! 2. state: the class [`registry`], the validated [`chains`], [`inbox`]es, the per-thread
//!    [`held`] stacks and [`notify_path`]s, the dependency [`graph`], the [`instance_order`] among the locks of
//!    one class, the locks in their [`first_hold`], lock_stat's per-thread counts ([`stat`]);
//! 3. [`violation`] data;
//! 4. the violation [`store`], the text [`report`], the JSON/DOT [`export`];
//! 5. thread and process [`exit`];
//! 6. [`validate`]: one acquisition against the held stack and the graph; [`event`]: waits
//!    for events and their notifiers.
//!
//! 7. [`entry`], the front door: the only module the layers above may name (the others are
//!    private to the checker, so the compiler holds that line).
//!
//! The hooks that locks, pools and the allocator call (`crate::hook`) sit above all of it.
//! Internal lock order, outermost first (all `std::sync::Mutex`, never instrumented): class
//! registry → graph → the locks in their first hold → violation store → a thread's inbox; the
//! instance order and lock_stat's buffers (the list, then a thread's) are taken with none of
//! them held. Nothing is called back into user
//! code while any of them is held, except `tracing` events, emitted after the store lock is
//! released.

mod chain_key;
mod chains;
pub(crate) mod entry;
mod event;
mod exit;
mod export;
mod fast_hash;
mod first_hold;
mod graph;
mod held;
mod image;
mod inbox;
mod instance_order;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod loaded;
mod notify_path;
mod registry;
mod report;
mod stack_trace;
mod stat;
mod store;
mod task_state;
mod tasks;
mod types;
mod unwind;
mod validate;
mod violation;
mod watchdog;
