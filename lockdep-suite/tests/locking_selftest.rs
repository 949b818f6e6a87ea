//! The kernel's `lib/locking-selftest.c`, ported: each family asserts the kernel's expected
//! outcome (F = reported, S = no report).
//!
//! Lock kinds, as in the reference: mutex = `Mutex::lock()`, wlock/wsem = `RwLock::write()`,
//! rlock = `RwLock::read_recursive()` (a recursive reader), rsem = `RwLock::read()` (a
//! non-recursive reader). Every case uses classes of its own (`LockClass::leak` with a name
//! unique to the case), because the graph is shared by all tests of this binary.
#![cfg(feature = "enabled")]

use lockdep::ViolationKind;
use lockdep::{LockClass, Mode, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Mutex,
    WLock,
    RLock,
    WSem,
    RSem,
}

const ALL_KINDS: [Kind; 5] = [
    Kind::Mutex,
    Kind::WLock,
    Kind::RLock,
    Kind::WSem,
    Kind::RSem,
];

/// One lock of either type.
enum Lock {
    M(Mutex<()>),
    R(RwLock<()>),
}

#[allow(dead_code)] // held for their drop
enum Guard<'a> {
    M(MutexGuard<'a, ()>),
    R(RwLockReadGuard<'a, ()>),
    W(RwLockWriteGuard<'a, ()>),
}

/// How an operation takes a lock.
#[derive(Clone, Copy)]
enum How {
    Lock,
    Write,
    ReadRecursive,
    Read,
}

impl Kind {
    fn how(self) -> How {
        match self {
            Kind::Mutex => How::Lock,
            Kind::WLock | Kind::WSem => How::Write,
            Kind::RLock => How::ReadRecursive,
            Kind::RSem => How::Read,
        }
    }
}

fn class(name: String) -> &'static LockClass {
    LockClass::leak(name)
}

impl Lock {
    fn new(kind: Kind, class: &'static LockClass) -> Lock {
        match kind {
            Kind::Mutex => Lock::M(Mutex::with_class((), class)),
            _ => Lock::R(RwLock::with_class((), class)),
        }
    }

    fn rw(class: &'static LockClass) -> Lock {
        Lock::R(RwLock::with_class((), class))
    }

    fn take(&self, how: How) -> Guard<'_> {
        match (self, how) {
            (Lock::M(m), _) => Guard::M(m.lock()),
            (Lock::R(l), How::Write | How::Lock) => Guard::W(l.write()),
            (Lock::R(l), How::ReadRecursive) => Guard::R(l.read_recursive()),
            (Lock::R(l), How::Read) => Guard::R(l.read()),
        }
    }
}

/// Kinds of the violations recorded about any of the classes `names`.
fn reported(names: &[String]) -> Vec<ViolationKind> {
    lockdep::violations()
        .iter()
        .filter(|v| names.iter().any(|n| v.involves(n)))
        .map(|v| v.kind())
        .collect()
}

/// `LOCK_UNLOCK_2(x, y)`: lock x, lock y, unlock y, unlock x.
fn lock_unlock_2(x: &Lock, y: &Lock, how: How) {
    let _x = x.take(how);
    let _y = y.take(how);
}

/// Runs a family of `LOCK_UNLOCK_2` pairs over classes `A..` for every lock kind and checks
/// the main table's outcome: F for all kinds but rlock, which is S. Run twice: all pairs on
/// one thread, as the kernel does, and each pair on a thread of its own, one after another
/// (the graph is global: who took the locks does not matter).
fn main_table(family: &str, pairs: &[(usize, usize)], cycle: &[usize]) {
    lockdep::set_mode(Mode::Collect);
    let n = pairs.iter().map(|&(a, b)| a.max(b)).max().unwrap() + 1;
    for threaded in [false, true] {
        for kind in ALL_KINDS {
            let names: Vec<String> = (0..n)
                .map(|i| {
                    let letter = (b'A' + i as u8) as char;
                    format!("selftest-{family}-{kind:?}-threaded={threaded}-{letter}")
                })
                .collect();
            let locks: Vec<Lock> = names
                .iter()
                .map(|name| Lock::new(kind, class(name.clone())))
                .collect();
            for &(x, y) in pairs {
                let (x, y) = (&locks[x], &locks[y]);
                if threaded {
                    std::thread::scope(|s| {
                        s.spawn(|| lock_unlock_2(x, y, kind.how()));
                    });
                } else {
                    lock_unlock_2(x, y, kind.how());
                }
            }
            let got = reported(&names);
            let case = format!("{family} {kind:?} threaded={threaded}");
            if kind == Kind::RLock {
                assert!(got.is_empty(), "{case}: expected S, got {got:?}");
            } else {
                assert_eq!(got, vec![ViolationKind::CircularDependency], "{case}: F");
                // The report names exactly the classes of the cycle.
                let v = lockdep::violations()
                    .into_iter()
                    .find(|v| v.involves(&names[cycle[0]]))
                    .unwrap();
                let mut on_cycle = v.classes();
                on_cycle.sort_unstable();
                let mut expected: Vec<&str> = cycle.iter().map(|&i| names[i].as_str()).collect();
                expected.sort_unstable();
                assert_eq!(on_cycle, expected, "{case}");
            }
        }
    }
}

#[test]
fn abba() {
    main_table("ABBA", &[(0, 1), (1, 0)], &[0, 1]);
}

#[test]
fn abbcca() {
    main_table("ABBCCA", &[(0, 1), (1, 2), (2, 0)], &[0, 1, 2]);
}

#[test]
fn abcabc() {
    main_table("ABCABC", &[(0, 1), (2, 0), (1, 2)], &[0, 1, 2]);
}

#[test]
fn abbccdda() {
    main_table("ABBCCDDA", &[(0, 1), (1, 2), (2, 3), (3, 0)], &[0, 1, 2, 3]);
}

#[test]
fn abcdbdda() {
    // C → D is not on the cycle D → A → B → D.
    main_table("ABCDBDDA", &[(0, 1), (2, 3), (1, 3), (3, 0)], &[0, 1, 3]);
}

#[test]
fn abcdbcda() {
    main_table("ABCDBCDA", &[(0, 1), (2, 3), (1, 2), (3, 0)], &[0, 1, 2, 3]);
}

#[test]
fn aa_same_class_different_instances() {
    // LOCK(X1); LOCK(X2): the kernel's F for all kinds but rlock (recursive read). Here two
    // locks of one class nested in one order are ordered by instance (book/src/concepts.md, "Classes that
    // fit Rust"): no report; taking them in the opposite order too is the deadlock.
    lockdep::set_mode(Mode::Collect);
    for kind in ALL_KINDS {
        let name = format!("selftest-AA-{kind:?}-X");
        let x = class(name.clone());
        let (x1, x2) = (Lock::new(kind, x), Lock::new(kind, x));
        {
            let _a = x1.take(kind.how());
            let _b = x2.take(kind.how());
        }
        let got = reported(std::slice::from_ref(&name));
        assert!(got.is_empty(), "AA {kind:?} in one order: got {got:?}");
        {
            let _b = x2.take(kind.how());
            let _a = x1.take(kind.how());
        }
        let got = reported(std::slice::from_ref(&name));
        if kind == Kind::RLock {
            assert!(got.is_empty(), "AA {kind:?}: expected S, got {got:?}");
        } else {
            assert_eq!(got, vec![ViolationKind::CircularDependency], "AA {kind:?}");
        }
    }
}

/// One case of the read/write recursion table: `steps` run in order on one thread, each a
/// list of (lock index, how) taken nested and released. `locks[i]` is the class number of
/// instance `i` (instances with the same number share a class: X1, X2 are 0, 0; Y1 is 1);
/// classes listed in `mutexes` are mutexes, the others rwlocks.
fn rw_case_with(
    case: &str,
    locks: &[usize],
    mutexes: &[usize],
    steps: &[&[(usize, How)]],
    expect_report: bool,
) {
    lockdep::set_mode(Mode::Collect);
    let names: Vec<String> = (0..=*locks.iter().max().unwrap())
        .map(|c| format!("selftest-rw-{case}-{c}"))
        .collect();
    let classes: Vec<&'static LockClass> = names.iter().map(|n| class(n.clone())).collect();
    let instances: Vec<Lock> = locks
        .iter()
        .map(|&c| {
            if mutexes.contains(&c) {
                Lock::new(Kind::Mutex, classes[c])
            } else {
                Lock::rw(classes[c])
            }
        })
        .collect();
    for step in steps {
        let mut guards = Vec::new();
        for &(i, how) in step.iter() {
            guards.push(instances[i].take(how));
        }
        while guards.pop().is_some() {}
    }
    let got = reported(&names);
    if expect_report {
        assert_eq!(got.len(), 1, "{case}: expected one report, got {got:?}");
    } else {
        assert!(got.is_empty(), "{case}: expected no report, got {got:?}");
    }
}

/// [`rw_case_with`] where every lock is an rwlock.
fn rw_case(case: &str, locks: &[usize], steps: &[&[(usize, How)]], expect_report: bool) {
    rw_case_with(case, locks, &[], steps, expect_report);
}

use How::{Read as R, ReadRecursive as RR, Write as W};

#[test]
fn rlock_aa1_recursive_read_on_the_same_lock() {
    rw_case("rlock_AA1", &[0], &[&[(0, RR), (0, RR)]], false);
}

#[test]
fn rlock_aa1b_recursive_read_same_class() {
    rw_case(
        "rlock_AA1B",
        &[0, 0],
        &[&[(0, RR), (1, RR)], &[(1, RR), (0, RR)]],
        false,
    );
}

#[test]
fn rsem_aa1_non_recursive_read_twice_on_the_same_lock() {
    // Would deadlock behind a writer queued between the two reads. The same lock, not two
    // of one class: reported as such (the kernel's AA, worded for the instance).
    rw_case("rsem_AA1", &[0], &[&[(0, R), (0, R)]], true);
    assert_eq!(
        reported(&["selftest-rw-rsem_AA1-0".to_owned()]),
        vec![ViolationKind::SameLockTwice]
    );
}

#[test]
fn rsem_aa1b_non_recursive_reads_same_class() {
    // Two locks of one class: reported once they are taken in both orders (see
    // `aa_same_class_different_instances`), as for every two-instance case below.
    rw_case(
        "rsem_AA1B",
        &[0, 0],
        &[&[(0, R), (1, R)], &[(1, R), (0, R)]],
        true,
    );
}

#[test]
fn recursive_read_on_a_non_recursive_read_is_fine() {
    // The second reader never waits behind a queued writer (parking_lot `read_recursive`).
    let steps: &[&[(usize, How)]] = &[&[(0, R), (1, RR)], &[(1, R), (0, RR)]];
    rw_case("rsem_then_rlock", &[0, 0], steps, false);
    // But a non-recursive read under a recursive one does wait: reported.
    let steps: &[&[(usize, How)]] = &[&[(0, RR), (1, R)], &[(1, RR), (0, R)]];
    rw_case("rlock_then_rsem", &[0, 0], steps, true);
}

#[test]
fn rlock_aa2_and_rsem_aa2_read_then_write() {
    rw_case(
        "rlock_AA2",
        &[0, 0],
        &[&[(0, RR), (1, W)], &[(1, RR), (0, W)]],
        true,
    );
    rw_case(
        "rsem_AA2",
        &[0, 0],
        &[&[(0, R), (1, W)], &[(1, R), (0, W)]],
        true,
    );
}

#[test]
fn rlock_aa3_and_rsem_aa3_write_then_read() {
    rw_case(
        "rlock_AA3",
        &[0, 0],
        &[&[(0, W), (1, RR)], &[(1, W), (0, RR)]],
        true,
    );
    rw_case(
        "rsem_AA3",
        &[0, 0],
        &[&[(0, W), (1, R)], &[(1, W), (0, R)]],
        true,
    );
}

// The ABBA cases of the recursion table: X (class 0) an rwlock, Y (class 1) a mutex
// (`How::Lock`), as in the kernel (rlock_* use rwlock_t, rwsem_* rw_semaphore + mutex).
use How::Lock as M;

#[test]
fn rlock_abba1_read_then_write_is_a_deadlock() {
    // RL(X1); L(Y1)   then   L(Y1); WL(X1)
    let steps: &[&[(usize, How)]] = &[&[(0, RR), (1, M)], &[(1, M), (0, W)]];
    rw_case_with("rlock_ABBA1", &[0, 1], &[1], steps, true);
}

#[test]
fn rwsem_abba1_read_then_write_is_a_deadlock() {
    let steps: &[&[(usize, How)]] = &[&[(0, R), (1, M)], &[(1, M), (0, W)]];
    rw_case_with("rwsem_ABBA1", &[0, 1], &[1], steps, true);
}

#[test]
fn rlock_abba2_recursive_reads_on_both_sides_are_fine() {
    // RL(X1); L(Y1)   then   L(Y1); RL(X1)
    let steps: &[&[(usize, How)]] = &[&[(0, RR), (1, M)], &[(1, M), (0, RR)]];
    rw_case_with("rlock_ABBA2", &[0, 1], &[1], steps, false);
}

#[test]
fn rwsem_abba2_non_recursive_reads_are_a_deadlock() {
    let steps: &[&[(usize, How)]] = &[&[(0, R), (1, M)], &[(1, M), (0, R)]];
    rw_case_with("rwsem_ABBA2", &[0, 1], &[1], steps, true);
}

#[test]
fn rlock_abba3_and_rwsem_abba3_writes_are_a_deadlock() {
    let steps: &[&[(usize, How)]] = &[&[(0, W), (1, M)], &[(1, M), (0, W)]];
    rw_case_with("rlock_ABBA3", &[0, 1], &[1], steps, true);
    rw_case_with("rwsem_ABBA3", &[0, 1], &[1], steps, true);
}

#[test]
fn abba_between_two_rwlocks_follows_the_same_rules() {
    // Both X and Y rwlocks, Y taken for write: the outcomes do not depend on Y's type.
    let cases: [(&str, How, How, bool); 4] = [
        ("rw2_ABBA1", RR, W, true),
        ("rw2_ABBA2", RR, RR, false),
        ("rw2_rsem_ABBA2", R, R, true),
        ("rw2_ABBA3", W, W, true),
    ];
    for (case, first, second, expect) in cases {
        rw_case(
            case,
            &[0, 1],
            &[&[(0, first), (1, W)], &[(1, W), (0, second)]],
            expect,
        );
    }
}

#[test]
fn rlock_chaincache_abba1_read_chain_does_not_hide_write_chain() {
    rw_case(
        "rlock_chaincache_ABBA1",
        &[0, 1],
        &[&[(0, RR), (1, W)], &[(1, W), (0, RR)], &[(1, W), (0, W)]],
        true,
    );
    // The same with Y a mutex, as in the kernel.
    let steps: &[&[(usize, How)]] = &[&[(0, RR), (1, M)], &[(1, M), (0, RR)], &[(1, M), (0, W)]];
    rw_case_with("rlock_chaincache_ABBA1_mutex", &[0, 1], &[1], steps, true);
    // And the other way round: a write chain validated first does not hide the read chain's
    // (harmless) outcome either: RL after WL of the same chain adds nothing wrong.
    let steps: &[&[(usize, How)]] = &[&[(1, M), (0, W)], &[(1, M), (0, RR)], &[(0, RR), (1, M)]];
    rw_case_with(
        "rlock_chaincache_ABBA1_reversed",
        &[0, 1],
        &[1],
        steps,
        true,
    );
}

/// The 3-lock recursive-read cycles, each in all six orders of its three steps.
fn three_lock_cycle(case: &str, e: [[(usize, How); 2]; 3], expect_report: bool) {
    const ORDERS: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in ORDERS {
        let name = format!("{case}_{}{}{}", order[0] + 1, order[1] + 1, order[2] + 1);
        let steps: Vec<&[(usize, How)]> = order.iter().map(|&i| &e[i][..]).collect();
        rw_case(&name, &[0, 1, 2], &steps, expect_report);
    }
}

#[test]
fn w1r2_w2r3_w3r1_is_a_deadlock() {
    three_lock_cycle(
        "W1R2_W2R3_W3R1",
        [[(0, W), (1, RR)], [(1, W), (2, RR)], [(2, W), (0, RR)]],
        true,
    );
}

#[test]
fn w1w2_r2r3_w3r1_is_a_deadlock() {
    three_lock_cycle(
        "W1W2_R2R3_W3R1",
        [[(0, W), (1, W)], [(1, RR), (2, RR)], [(2, W), (0, RR)]],
        true,
    );
}

#[test]
fn w1r2_r2r3_w3w1_is_not_a_strong_cycle() {
    three_lock_cycle(
        "W1W2_R2R3_R3W1",
        [[(0, W), (1, RR)], [(1, RR), (2, RR)], [(2, W), (0, W)]],
        false,
    );
}

#[test]
fn w1w2_r2r3_r3w1_is_not_a_strong_cycle() {
    three_lock_cycle(
        "W1R2_R2R3_W3W1",
        [[(0, W), (1, W)], [(1, RR), (2, RR)], [(2, RR), (0, W)]],
        false,
    );
}

#[test]
fn trylock_is_never_reported_but_is_held() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), class("selftest-try-A".into())),
        Mutex::with_class((), class("selftest-try-B".into())),
    );
    drop((a.lock(), b.lock())); // A → B
    {
        let _b = b.lock();
        let _a = a.try_lock().expect("free"); // B → A by a trylock: not validated
    }
    let names = ["selftest-try-A".to_owned(), "selftest-try-B".to_owned()];
    assert!(reported(&names).is_empty());
    // But what a try-lock took is held: taking C under it records A → C.
    let c = Mutex::with_class((), class("selftest-try-C".into()));
    {
        let _a = a.try_lock().unwrap();
        let _c = c.lock(); // A → C
    }
    {
        let _c = c.lock();
        let _a = a.lock(); // C → A closes A → C → A
    }
    assert_eq!(
        reported(&["selftest-try-C".to_owned()]),
        vec![ViolationKind::CircularDependency]
    );
}
