//! [`AsTask`]: a future given a held-lock context of its own, as a tokio task has one, for
//! executors whose tasks the checker cannot tell apart (`futures::executor`, smol, a future
//! polled by hand).
//!
//! Written once for both builds: without the `enabled` feature it only polls the future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(feature = "enabled")]
use crate::checker::entry;

/// A future with a held-lock context of its own: what it holds across an `.await` is its own,
/// not the thread's that polls it, and it may move between threads holding it. Made by
/// [`as_task`].
///
/// Code running in a tokio task (feature `tokio`) has its task's context without it. For
/// other executors, futures polled by one thread share that thread's context unless each is
/// wrapped: a lock one holds across an `.await` is then seen as held by the others, which
/// invents dependencies between them (and reports a second reader of a lock as the same lock
/// taken twice).
///
/// # Examples
///
/// ```
/// use lockdep::{as_task, ClassKind, LockdepMap};
/// use std::future::Future;
/// use std::pin::{pin, Pin};
/// use std::task::{Context, Poll, Waker};
///
/// /// Pending once, then ready: an await that suspends.
/// struct Suspend(bool);
/// impl Future for Suspend {
///     type Output = ();
///     fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
///         if std::mem::replace(&mut self.0, true) { Poll::Ready(()) } else { Poll::Pending }
///     }
/// }
///
/// let (lock, other) = (LockdepMap::new(ClassKind::Lock), LockdepMap::new(ClassKind::Lock));
/// let holder = pin!(as_task(async {
///     let _held = lock.acquire().acquired();
///     Suspend(false).await; // holds `lock` across the await
/// }));
/// let taker = pin!(as_task(async { drop(other.acquire().acquired()) }));
/// let (mut holder, mut taker) = (holder, taker);
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(holder.as_mut().poll(&mut cx).is_pending());
/// // Polled on the same thread meanwhile, but its own context: no `lock → other`.
/// assert!(taker.as_mut().poll(&mut cx).is_ready());
/// assert!(holder.as_mut().poll(&mut cx).is_ready());
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct AsTask<F> {
    #[cfg(feature = "enabled")]
    task: u64,
    future: F,
}

/// Gives `future` a held-lock context of its own (see [`AsTask`]).
///
/// # Examples
///
/// ```
/// let task = lockdep::as_task(async { 7 });
/// assert_eq!(futures_lite_block_on(task), 7);
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
/// #     }
/// # }
/// ```
pub fn as_task<F: Future>(future: F) -> AsTask<F> {
    AsTask {
        #[cfg(feature = "enabled")]
        task: entry::new_task(),
        future,
    }
}

impl<F: Future> Future for AsTask<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        #[cfg(feature = "enabled")]
        let previous = entry::enter_task(self.task);
        /// Puts back the task that ran before, also when the future panics.
        #[cfg(feature = "enabled")]
        struct Leave(u64);
        #[cfg(feature = "enabled")]
        impl Drop for Leave {
            fn drop(&mut self) {
                entry::leave_task(self.0);
            }
        }
        #[cfg(feature = "enabled")]
        let _leave = Leave(previous);
        // SAFETY: `future` is structurally pinned: it is never moved out of `self` (no method
        // gives it out by value, and `AsTask` has no `Drop` of its own that would).
        let future = unsafe { self.map_unchecked_mut(|task| &mut task.future) };
        future.poll(cx)
    }
}
