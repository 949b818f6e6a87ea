//! Two threads take two locks in opposite orders, at different times: lockdep reports the
//! possible deadlock although this run never deadlocks.
//!
//! Run: `cargo run --example abba`

use lockdep::{LockClass, Mutex};
use std::sync::Arc;

static ACCOUNTS: LockClass = LockClass::new("accounts");
static LEDGER: LockClass = LockClass::new("ledger");

fn main() {
    lockdep::set_mode(lockdep::Mode::Collect);
    let accounts = Arc::new(Mutex::with_class(0u64, &ACCOUNTS));
    let ledger = Arc::new(Mutex::with_class(Vec::<u64>::new(), &LEDGER));

    // Thread 1: accounts, then ledger.
    let (a, l) = (Arc::clone(&accounts), Arc::clone(&ledger));
    std::thread::spawn(move || {
        let mut balance = a.lock();
        *balance += 10;
        l.lock().push(*balance);
    })
    .join()
    .unwrap();

    // Thread 2, later: ledger, then accounts.
    let (a, l) = (Arc::clone(&accounts), Arc::clone(&ledger));
    std::thread::spawn(move || {
        let entries = l.lock();
        let balance = a.lock();
        println!("audit: {} entries, balance {}", entries.len(), *balance);
    })
    .join()
    .unwrap();

    for v in lockdep::take_violations() {
        println!("{v}");
        println!("JSON: {}", v.to_json());
    }
}
