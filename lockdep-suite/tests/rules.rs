//! lockdep's rules beyond the kernel's (`book/src/rules.md`): for each, the false report it
//! avoids gives none, and its true twin is still reported, at the moment it becomes true.
#![cfg(feature = "enabled")]

use lockdep::{Mode, RwLock, RwLockUpgradableReadGuard, ViolationKind};

mod common;
use common::{class, kinds};

/// Runs `f` on a thread of its own, to its end.
fn on_a_thread(f: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        s.spawn(f);
    });
}

// ---- reads of a class nobody writes ------------------------------------------------------

/// T is only ever read; L is written somewhere. One path reads T then L, others L then T:
/// each read of T waits only behind a writer of T, and there is none.
#[test]
fn a_cycle_through_reads_of_a_class_nobody_writes_is_no_deadlock() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-read-only-T"));
    let l = RwLock::with_class(0, class("rules-read-only-L"));
    *l.write() += 1;
    on_a_thread(|| {
        let _t = t.read();
        let _l = l.read();
    });
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    on_a_thread(|| {
        let _l = l.write();
        let _t = t.read_recursive();
    });
    assert!(
        kinds("rules-read-only-T").is_empty(),
        "{:?}",
        lockdep::violations()
    );
    assert!(kinds("rules-read-only-L").is_empty());
}

/// The same paths, and then a writer waits for T: now a read of T may queue behind it, and
/// the cycle is reported at that write, naming the read that closed it and the write.
#[test]
fn the_first_writer_of_a_read_class_closes_the_held_back_cycle() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-written-T"));
    let l = RwLock::with_class(0, class("rules-written-L"));
    *l.write() += 1;
    on_a_thread(|| {
        let _t = t.read();
        let _l = l.read();
    });
    let read_line = line!() + 3;
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    assert!(kinds("rules-written-T").is_empty());
    let write_line = line!() + 1;
    on_a_thread(|| *t.write() += 1);
    assert_eq!(
        kinds("rules-written-T"),
        vec![ViolationKind::CircularDependency]
    );
    let v = common::find("rules-written-T");
    let text = v.to_string();
    assert!(
        text.contains("is the first to wait to write lock:"),
        "{text}"
    );
    assert!(
        text.contains(&format!("(rules-written-T), at: {}:{write_line}:", file!())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "(rules-written-T) read, at: {}:{read_line}:",
            file!()
        )),
        "{text}"
    );
    assert!(text.contains("rlock(rules-written-T)"), "{text}");
    // JSON: the closing read, and what made it count.
    let json: serde_json::Value = serde_json::from_str(&v.to_json()).unwrap();
    assert_eq!(json["held_back"]["until"], "first_write");
    assert_eq!(json["held_back"]["by"]["access"], "write");
    assert_eq!(json["held_back"]["by"]["site"]["line"], write_line);
    assert_eq!(json["trying"]["access"], "read");
    assert_eq!(json["trying"]["site"]["line"], read_line);
    // The graph says which classes are written, and where first.
    let graph: serde_json::Value = serde_json::from_str(&lockdep::graph_json()).unwrap();
    let class = |name: &str| {
        graph["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    let t = class("rules-written-T");
    assert_eq!(t["written"], true);
    assert_eq!(t["written_at"]["line"], write_line);
}

#[test]
fn the_graph_says_a_class_only_read_is_not_written() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-graph-read-only"));
    drop(t.read());
    let graph: serde_json::Value = serde_json::from_str(&lockdep::graph_json()).unwrap();
    let t = graph["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rules-graph-read-only")
        .cloned()
        .unwrap();
    assert_eq!(t["written"], false);
    assert!(t["written_at"].is_null());
}

/// An upgrade is a writer waiting for the class: the same as a write.
#[test]
fn an_upgrade_is_a_first_write() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-upgraded-T"));
    let l = RwLock::with_class(0, class("rules-upgraded-L"));
    *l.write() += 1;
    on_a_thread(|| {
        let _t = t.read();
        let _l = l.read();
    });
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    assert!(kinds("rules-upgraded-T").is_empty());
    on_a_thread(|| {
        let up = t.upgradable_read();
        *RwLockUpgradableReadGuard::upgrade(up) += 1;
    });
    assert_eq!(
        kinds("rules-upgraded-T"),
        vec![ViolationKind::CircularDependency]
    );
}

/// Two upgradable reads exclude each other: one waits for the other with no writer about.
/// Taken in opposite orders with another lock, they deadlock: a blocking upgradable read
/// counts as a writer waiting.
#[test]
fn upgradable_reads_in_opposite_orders_are_reported() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-upgradable-T"));
    let l = lockdep::Mutex::with_class(0, class("rules-upgradable-L"));
    on_a_thread(|| {
        let _t = t.upgradable_read();
        let _l = l.lock();
    });
    on_a_thread(|| {
        let _l = l.lock();
        let _t = t.upgradable_read();
    });
    assert_eq!(
        kinds("rules-upgradable-T"),
        vec![ViolationKind::CircularDependency]
    );
}

/// A writer that waited for T before the reads: the read that closes the cycle is reported
/// at once, as the kernel does.
#[test]
fn reads_of_a_written_class_are_reported_at_once() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-written-first-T"));
    let l = RwLock::with_class(0, class("rules-written-first-L"));
    *l.write() += 1;
    *t.write() += 1;
    on_a_thread(|| {
        let _t = t.read();
        let _l = l.read();
    });
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    assert_eq!(
        kinds("rules-written-first-T"),
        vec![ViolationKind::CircularDependency]
    );
    let text = common::find("rules-written-first-T").to_string();
    assert!(!text.contains("first to wait to write"), "{text}");
}

/// A writer that only ever takes T by `try_write` never waits, but it holds T while it waits
/// for L: a read of T under L waits for it. Reported at once.
#[test]
fn a_try_writer_holding_the_class_is_reported_at_once() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-try-written-T"));
    let l = RwLock::with_class(0, class("rules-try-written-L"));
    *l.write() += 1;
    on_a_thread(|| {
        let _t = t.try_write().unwrap();
        let _l = l.read();
    });
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    assert_eq!(
        kinds("rules-try-written-T"),
        vec![ViolationKind::CircularDependency]
    );
}

/// Reading the same lock twice on one thread is reported whether or not it is written: a
/// writer queued between the two reads deadlocks the thread (std's docs show it).
#[test]
fn the_same_lock_read_twice_is_reported_unwritten() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-read-twice"));
    let first = t.read();
    let second = t.read();
    drop((first, second));
    assert_eq!(
        kinds("rules-read-twice"),
        vec![ViolationKind::SameLockTwice]
    );
}

// ---- a lock taken before anyone else can see it ------------------------------------------

/// An object with a lock of its own, kept in a registry.
struct Object {
    state: lockdep::Mutex<u32>,
}

/// A registry of objects, and the class of the objects' locks.
struct Registry {
    objects: RwLock<Vec<std::sync::Arc<Object>>>,
    objects_class: &'static lockdep::LockClass,
}

impl Registry {
    fn new(name: &str) -> Registry {
        Registry {
            objects: RwLock::with_class(Vec::new(), class(&format!("{name}-registry"))),
            objects_class: class(&format!("{name}-object")),
        }
    }

    /// Makes an object and registers it, locked while the registry is written: nobody can
    /// reach it before both are released.
    fn create(&self) -> std::sync::Arc<Object> {
        let object = std::sync::Arc::new(Object {
            state: lockdep::Mutex::with_class(0, self.objects_class),
        });
        let mut objects = self.objects.write();
        let mut state = object.state.lock();
        *state = 1;
        objects.push(std::sync::Arc::clone(&object));
        drop(state);
        drop(objects);
        object
    }

    /// The object `i`, found through the registry.
    fn find(&self, i: usize) -> std::sync::Arc<Object> {
        std::sync::Arc::clone(&self.objects.read()[i])
    }

    /// Holds an object's lock and reads the registry.
    fn count_under(&self, object: &Object) -> usize {
        let _state = object.state.lock();
        self.objects.read().len()
    }
}

/// A thread makes objects, each locked while the registry is written; another finds one
/// through the registry, and reads the registry while holding its lock. The object's first
/// lock happened before anyone else could reach it: no deadlock is possible.
#[test]
fn a_lock_taken_before_it_is_published_adds_no_dependency() {
    lockdep::set_mode(Mode::Collect);
    let registry = Registry::new("rules-published");
    on_a_thread(|| {
        registry.create();
        registry.create();
    });
    on_a_thread(|| {
        let object = registry.find(0);
        assert_eq!(registry.count_under(&object), 2);
    });
    // Its creator locking it again after it was published changes nothing.
    on_a_thread(|| {
        registry.create();
    });
    assert!(
        kinds("rules-published-registry").is_empty(),
        "{:?}",
        lockdep::violations()
    );
}

/// The true twin: an object's lock taken while the registry is written *after* the object
/// was shared is a dependency like any other, and closes the cycle.
#[test]
fn a_shared_lock_taken_under_the_registry_is_reported() {
    lockdep::set_mode(Mode::Collect);
    let registry = Registry::new("rules-shared");
    on_a_thread(|| {
        registry.create();
    });
    on_a_thread(|| {
        let object = registry.find(0);
        registry.count_under(&object);
    });
    assert!(kinds("rules-shared-registry").is_empty());
    on_a_thread(|| {
        let object = registry.find(0);
        let _objects = registry.objects.write();
        *object.state.lock() += 1;
    });
    assert_eq!(
        kinds("rules-shared-registry"),
        vec![ViolationKind::CircularDependency]
    );
}

/// A lock first taken under the registry, then handed to a thread that never took the
/// registry before: it was reachable without the registry, so its first lock counts, and the
/// cycle it closes is reported when that thread takes it.
#[test]
fn a_lock_reached_without_the_registry_counts_from_its_first_hold() {
    lockdep::set_mode(Mode::Collect);
    let registry = Registry::new("rules-handed");
    let mut handed = None;
    on_a_thread(|| {
        registry.create();
        handed = Some(registry.create());
    });
    let handed = handed.unwrap();
    // Another object, found through the registry, held while the registry is read.
    on_a_thread(|| {
        let object = registry.find(0);
        registry.count_under(&object);
    });
    assert!(kinds("rules-handed-registry").is_empty());
    let taken_line = line!() + 1;
    on_a_thread(|| *handed.state.lock() += 1);
    assert_eq!(
        kinds("rules-handed-registry"),
        vec![ViolationKind::CircularDependency]
    );
    let v = common::find("rules-handed-registry");
    let text = v.to_string();
    assert!(text.contains("takes lock:"), "{text}");
    assert!(
        text.contains(&format!("{}:{taken_line}:", file!())),
        "{text}"
    );
    assert!(
        text.contains("without having taken (rules-handed-registry) before"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&v.to_json()).unwrap();
    assert_eq!(json["held_back"]["until"], "shared");
    assert_eq!(json["held_back"]["by"]["site"]["line"], taken_line);
}

/// One thread that makes an object under the registry, then holds it and reads the registry,
/// cannot tell whether the object was private: the kernel's report.
#[test]
fn one_thread_taking_both_orders_is_reported() {
    lockdep::set_mode(Mode::Collect);
    let registry = Registry::new("rules-one-thread");
    on_a_thread(|| {
        let object = registry.create();
        registry.count_under(&object);
    });
    assert_eq!(
        kinds("rules-one-thread-registry"),
        vec![ViolationKind::CircularDependency]
    );
}

/// A lock moved in its first hold leaves what it held back at its old address, where another
/// lock may be made: that lock's first acquisition is its own, and settles nothing of the
/// moved one's (which would count the moved lock's first hold as the kernel does).
#[test]
fn a_lock_moved_in_its_first_hold_leaves_nothing_to_the_next_at_its_address() {
    lockdep::set_mode(Mode::Collect);
    let registry = Registry::new("rules-moved");
    let mut slot = Some(lockdep::Mutex::with_class(0, registry.objects_class));
    let address = |slot: &Option<lockdep::Mutex<u32>>| slot.as_ref().unwrap() as *const _;
    let first = address(&slot);
    {
        let _objects = registry.objects.write();
        drop(slot.as_ref().unwrap().lock());
    }
    let moved = slot.take().unwrap();
    slot = Some(lockdep::Mutex::with_class(0, class("rules-moved-other")));
    assert_eq!(address(&slot), first);
    drop(slot.as_ref().unwrap().lock());
    // The moved lock is settled at its next acquisition, with nothing to count.
    drop(moved.lock());
    registry.create();
    on_a_thread(|| {
        let object = registry.find(0);
        registry.count_under(&object);
    });
    assert!(
        kinds("rules-moved-registry").is_empty(),
        "{:?}",
        lockdep::violations()
    );
}
