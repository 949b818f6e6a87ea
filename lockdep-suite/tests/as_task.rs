//! `lockdep::as_task`: futures polled by hand (or by an executor without task ids) get a
//! held-lock context of their own, as tokio tasks have; without it they share the thread's.
#![cfg(feature = "enabled")]

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use lockdep::{as_task, ClassKind, LockdepMap, Mode, Mutex, ViolationKind};

mod common;
use common::{class, kinds};

/// Pending once, then ready: an await that suspends.
struct Suspend(bool);

impl Future for Suspend {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Polls `holder` until it suspends, then `taker` to the end, then `holder` to the end.
fn interleave(holder: impl Future<Output = ()>, taker: impl Future<Output = ()>) {
    let mut cx = Context::from_waker(Waker::noop());
    let (mut holder, mut taker) = (pin!(holder), pin!(taker));
    assert!(holder.as_mut().poll(&mut cx).is_pending());
    assert!(taker.as_mut().poll(&mut cx).is_ready());
    assert!(holder.as_mut().poll(&mut cx).is_ready());
}

/// Takes `a` and holds it across an await, while another future on the thread takes `b`;
/// then `b → a` on the thread: a cycle only if the futures' holds were mixed up.
fn turns(a: &LockdepMap, b: &LockdepMap, own_contexts: bool) {
    let holder = async {
        let _a = a.acquire().acquired();
        Suspend(false).await;
    };
    let taker = async { drop(b.acquire().acquired()) };
    if own_contexts {
        interleave(as_task(holder), as_task(taker));
    } else {
        interleave(holder, taker);
    }
    let _b = b.acquire().acquired();
    drop(a.acquire().acquired());
}

#[test]
fn futures_given_their_own_contexts_do_not_share_their_holds() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        LockdepMap::named("as-task-A", ClassKind::Lock),
        LockdepMap::named("as-task-B", ClassKind::Lock),
    );
    turns(&a, &b, true);
    assert_eq!(kinds("as-task-A"), [], "{}", lockdep::report());
}

#[test]
fn futures_polled_by_one_thread_without_them_share_its_context() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        LockdepMap::named("as-thread-A", ClassKind::Lock),
        LockdepMap::named("as-thread-B", ClassKind::Lock),
    );
    turns(&a, &b, false);
    // What the documentation warns of: the taker was seen holding A.
    assert_eq!(kinds("as-thread-A"), [ViolationKind::CircularDependency]);
}

#[test]
#[allow(clippy::await_holding_lock)] // what the checker must find at run time
fn a_blocking_lock_held_across_an_await_of_a_wrapped_future_is_reported() {
    lockdep::set_mode(Mode::Collect);
    let m = Mutex::with_class((), class("as-task-held"));
    let other = Mutex::with_class((), class("as-task-other"));
    interleave(
        as_task(async {
            let _guard = m.lock();
            Suspend(false).await;
        }),
        as_task(async { drop(other.lock()) }),
    );
    assert_eq!(
        kinds("as-task-held"),
        [ViolationKind::HeldAcrossAwait],
        "{}",
        lockdep::report()
    );
}
