//! Declared orders for the locks of one class: a key order (locks with keys nest by
//! increasing key, and one nesting against it is reported at first sight), and nest locks (a
//! nesting of locks of one class done under an outer lock that serialises it is not judged).
#![cfg(feature = "enabled")]

use lockdep::{Mode, Mutex, RwLock, ViolationKind};

mod common;
use common::{class, kinds};

#[test]
fn one_nesting_against_the_key_order_is_reported_at_first_sight() {
    lockdep::set_mode(Mode::Collect);
    let account = class("order-account");
    let (five, three) = (
        Mutex::with_class_key((), account, 5),
        Mutex::with_class_key((), account, 3),
    );
    let _five = five.lock();
    let _three = three.lock(); // 5 then 3: no other thread ever took them in the other order
    let found: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| v.involves("order-account"))
        .collect();
    assert_eq!(found.len(), 1, "{}", lockdep::report());
    assert_eq!(found[0].kind(), ViolationKind::DeclaredOrder);
    let text = found[0].to_string();
    let site = format!("(order-account), at: {}:", file!());
    for needle in [
        "WARNING: locks of one class taken against their declared order",
        &site,
        " key 3\n",
        " key 5\n",
        "lock(order-account key 5);",
        "Take the lock of key 3 before the one of key 5",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(found[0]
        .to_json()
        .contains("\"trying_key\":3,\"holding_key\":5"));
}

#[test]
fn nestings_by_increasing_key_are_not_reported() {
    lockdep::set_mode(Mode::Collect);
    let shard = class("order-shard");
    let shards: Vec<RwLock<u32>> = (0..8)
        .map(|i| RwLock::with_class_key(0, shard, i))
        .collect();
    for _ in 0..3 {
        let guards: Vec<_> = shards.iter().map(|s| s.write()).collect();
        drop(guards);
        let _two = shards[2].read();
        let _six = shards[6].write();
    }
    assert_eq!(kinds("order-shard"), [], "{}", lockdep::report());
}

#[test]
fn a_nesting_serialised_by_a_nest_lock_is_not_judged() {
    lockdep::set_mode(Mode::Collect);
    let bank = Mutex::with_class((), class("order-bank"));
    let account = class("order-nest-account");
    let (a, b) = (Mutex::with_class(1, account), Mutex::with_class(2, account));
    for (from, to) in [(&a, &b), (&b, &a)] {
        let all = bank.lock();
        let _from = from.lock_nest(&all);
        let _to = to.lock_nest(&all);
    }
    assert_eq!(kinds("order-nest-account"), [], "{}", lockdep::report());
    // The class-level order with the nest lock is still checked: bank → account.
    let _a = a.lock();
    drop(bank.lock());
    assert_eq!(
        kinds("order-bank"),
        [ViolationKind::CircularDependency],
        "{}",
        lockdep::report()
    );
}

#[test]
fn the_same_nestings_without_the_nest_lock_are_reported() {
    lockdep::set_mode(Mode::Collect);
    let bank = Mutex::with_class((), class("order-nonest-bank"));
    let account = class("order-nonest-account");
    let (a, b) = (Mutex::with_class(1, account), Mutex::with_class(2, account));
    for (from, to) in [(&a, &b), (&b, &a)] {
        let _all = bank.lock();
        let _from = from.lock();
        let _to = to.lock();
    }
    assert_eq!(
        kinds("order-nonest-account"),
        [ViolationKind::CircularDependency],
        "{}",
        lockdep::report()
    );
}

#[test]
fn a_lock_without_a_key_is_ordered_as_observed() {
    lockdep::set_mode(Mode::Collect);
    let account = class("order-mixed-account");
    let (keyed, plain) = (
        Mutex::with_class_key((), account, 7),
        Mutex::with_class((), account),
    );
    // One order alone is not reported (no key on `plain`)...
    drop((keyed.lock(), plain.lock()));
    assert_eq!(kinds("order-mixed-account"), []);
    // ...both orders are a cycle.
    drop((plain.lock(), keyed.lock()));
    assert_eq!(
        kinds("order-mixed-account"),
        [ViolationKind::CircularDependency],
        "{}",
        lockdep::report()
    );
}
