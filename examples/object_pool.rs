//! An object pool of your own (database connections, say), put in the graph as a counted
//! class, with objects that travel between threads.
//!
//! The story: a request handler holds one connection and, for a nested query, takes a second
//! one from the same pool. With as many handlers as connections, each holds one and waits for
//! another that no one will return: a deadlock. The run below has connections to spare; the
//! checker reports the pool recursion the first time it sees it.
//!
//! Run: `cargo run --example object_pool`

use std::sync::{Condvar, Mutex as StdMutex};

use lockdep::{ClassKind, Hold, LockdepMap, Mode, ViolationKind};

/// A pool of reusable objects on the standard library's (unchecked) mutex and condition
/// variable.
pub struct ObjectPool<T> {
    free: StdMutex<Vec<T>>,
    returned: Condvar,
    map: LockdepMap,
}

/// An object out of the pool: back in it when dropped, on whichever thread.
pub struct Pooled<'a, T> {
    pool: &'a ObjectPool<T>,
    object: Option<T>,
    hold: Hold,
}

impl<T> ObjectPool<T> {
    /// A pool of `objects`, whose class is named `name`.
    #[track_caller]
    pub fn new(name: &str, objects: Vec<T>) -> ObjectPool<T> {
        ObjectPool {
            free: StdMutex::new(objects),
            returned: Condvar::new(),
            map: LockdepMap::named(name, ClassKind::Pool),
        }
    }

    /// Takes an object, waiting while none is free.
    #[track_caller]
    pub fn get(&self) -> Pooled<'_, T> {
        let acquiring = self.map.acquire();
        let mut free = self
            .returned
            .wait_while(self.free.lock().unwrap(), |f| f.is_empty())
            .unwrap();
        let object = free.pop();
        drop(free);
        Pooled {
            pool: self,
            object,
            hold: acquiring.acquired(),
        }
    }
}

impl<T> Pooled<'_, T> {
    /// The object was given to this thread to work on (sent through a channel, say): this
    /// thread holds the pool's class from now on.
    #[track_caller]
    pub fn adopt(&mut self) {
        self.hold.adopt(&self.pool.map);
    }
}

impl<T> std::ops::Deref for Pooled<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.object.as_ref().unwrap()
    }
}

impl<T> Drop for Pooled<'_, T> {
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            self.pool.free.lock().unwrap().push(object);
            self.pool.returned.notify_one();
        }
    }
}

/// The story above: one handler takes a connection, hands it to a worker thread (which adopts
/// it), and the worker takes a second one for a nested query. Returns the violations about
/// the pool named `pool_name`.
pub fn nested_query_takes_a_second_connection(pool_name: &str) -> Vec<lockdep::Violation> {
    let pool = ObjectPool::new(pool_name, vec!["conn-1", "conn-2", "conn-3"]);
    let connection = pool.get();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut connection = connection;
            connection.adopt(); // the worker holds it now
            let nested = pool.get(); // a second one while holding the first
            assert_ne!(*connection, *nested);
        })
        .join()
        .unwrap();
    });
    // A snapshot, not `take_violations()`: other threads (tests) may have violations of
    // their own recorded meanwhile.
    lockdep::violations()
        .into_iter()
        .filter(|v| v.involves(pool_name))
        .collect()
}

#[allow(dead_code)] // also compiled into tests/lockdep_map.rs, which has its own main
fn main() {
    lockdep::set_mode(Mode::Collect);
    let found = nested_query_takes_a_second_connection("db-connections");
    for v in &found {
        println!("{v}");
    }
    lockdep::take_violations(); // reported above: the example exits 0
    assert!(found
        .iter()
        .any(|v| v.kind() == ViolationKind::PoolRecursion));
    println!("object_pool: the nested-connection deadlock was reported before it could happen.");
}
