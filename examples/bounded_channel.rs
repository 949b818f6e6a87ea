//! A bounded channel of your own, put in the graph with two event classes: its free space
//! (what a full `send` waits for, and `recv` signals) and its items (what an empty `recv`
//! waits for, and `send` signals).
//!
//! The story: the sender sends while holding the `state` lock; the receiver takes `state`
//! before each `recv`. Once the channel is full the sender waits for space holding `state`,
//! and the receiver, which would make the space, waits for `state`: a deadlock. The run below
//! never fills the channel, so it never hangs, and the checker reports the deadlock all the
//! same, from the two halves it saw.
//!
//! Run: `cargo run --example bounded_channel`

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex as StdMutex};

use lockdep::{ClassKind, LockdepMap, Mode, Mutex, ViolationKind};

/// A bounded FIFO channel built on the standard library's (unchecked) mutex and condition
/// variable; its two `LockdepMap`s tell the checker what it waits for.
pub struct Channel<T> {
    queue: StdMutex<VecDeque<T>>,
    capacity: usize,
    not_full: Condvar,
    not_empty: Condvar,
    /// The event "there is space": `send` may wait for it, `recv` signals it.
    space: LockdepMap,
    /// The event "there is an item": `recv` may wait for it, `send` signals it.
    items: LockdepMap,
}

impl<T> Channel<T> {
    /// A channel of `capacity` items. Its two events are the classes of the two lines below,
    /// shared by every channel: with `#[track_caller]` here both maps would be made at the
    /// caller's one site, one class, and the checker could not tell space from items.
    pub fn new(capacity: usize) -> Channel<T> {
        Channel {
            queue: StdMutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
            space: LockdepMap::new(ClassKind::Event),
            items: LockdepMap::new(ClassKind::Event),
        }
    }

    /// Sends `value`, waiting while the channel is full.
    #[track_caller]
    pub fn send(&self, value: T) {
        // A send may wait whenever it is called: the dependency is recorded even when this
        // one does not (the kernel's might_sleep()).
        self.space.might_acquire();
        let mut queue = self.queue.lock().unwrap();
        if queue.len() == self.capacity {
            queue = self.space.wait(|| {
                self.not_full
                    .wait_while(queue, |q| q.len() == self.capacity)
                    .unwrap()
            });
        }
        queue.push_back(value);
        drop(queue);
        self.items.notify();
        self.not_empty.notify_one();
    }

    /// Receives the oldest value, waiting while the channel is empty.
    #[track_caller]
    pub fn recv(&self) -> T {
        self.items.might_acquire();
        let mut queue = self.queue.lock().unwrap();
        if queue.is_empty() {
            queue = self
                .items
                .wait(|| self.not_empty.wait_while(queue, |q| q.is_empty()).unwrap());
        }
        let value = queue.pop_front().unwrap();
        drop(queue);
        self.space.notify();
        self.not_full.notify_one();
        value
    }
}

/// The story above, on two threads that take turns; returns the violations it provoked.
pub fn sender_holds_what_the_receiver_needs(state_name: &'static str) -> Vec<lockdep::Violation> {
    let state = Mutex::with_class(0u32, lockdep::LockClass::leak(state_name.to_owned()));
    let channel = Channel::new(4);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut sent = state.lock(); // held while sending
            *sent += 1;
            channel.send(*sent);
        })
        .join()
        .unwrap();
        s.spawn(|| {
            let _seen = *state.lock(); // taken on the receiver's way to recv
            assert_eq!(channel.recv(), 1);
        })
        .join()
        .unwrap();
    });
    // A snapshot, not `take_violations()`: other threads (tests) may have violations of
    // their own recorded meanwhile.
    lockdep::violations()
        .into_iter()
        .filter(|v| v.involves(state_name))
        .collect()
}

#[allow(dead_code)] // also compiled into tests/lockdep_map.rs, which has its own main
fn main() {
    lockdep::set_mode(Mode::Collect);
    let found = sender_holds_what_the_receiver_needs("channel-state");
    for v in &found {
        println!("{v}");
    }
    lockdep::take_violations(); // reported above: the example exits 0
    assert!(found
        .iter()
        .any(|v| v.kind() == ViolationKind::WaitDeadlock));
    println!("bounded_channel: the send/recv deadlock was reported before it could happen.");
}
