//! The checker proper (built with the `enabled` feature), in layers that only look down:
//!
//! 1. plain types: [`types`], [`stack_trace`] (walked by [`unwind`]), [`chain_key`], the
//!    tables' [`fast_hash`];
//! 2. state: the class [`registry`], the validated [`chains`], [`inbox`]es, the per-thread
//!    [`held`] stacks and [`notify_path`]s, the dependency [`graph`], the [`instance_order`] among the locks of
//!    one class;
//! 3. [`violation`] data;
//! 4. the violation [`store`], the text [`report`], the JSON/DOT [`export`];
//! 5. thread and process [`exit`];
//! 6. [`validate`]: one acquisition against the held stack and the graph; [`event`]: waits
//!    for events and their notifiers.
//!
//! The hooks that locks, pools and the allocator call (`crate::hook`) sit above all of it.
//! Internal lock order, outermost first (all `std::sync::Mutex`, never instrumented): class
//! registry → graph → violation store → a thread's inbox; the instance order is taken with
//! none of them held. Nothing is called back into user
//! code while any of them is held, except `tracing` events, emitted after the store lock is
//! released.

pub(crate) mod chain_key;
pub(crate) mod chains;
pub(crate) mod event;
pub(crate) mod exit;
pub(crate) mod export;
pub(crate) mod fast_hash;
pub(crate) mod graph;
pub(crate) mod held;
pub(crate) mod image;
pub(crate) mod inbox;
pub(crate) mod instance_order;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) mod loaded;
pub(crate) mod notify_path;
pub(crate) mod registry;
pub(crate) mod report;
pub(crate) mod stack_trace;
pub(crate) mod store;
pub(crate) mod types;
pub(crate) mod unwind;
pub(crate) mod validate;
pub(crate) mod violation;
