//! A tokio service with two request handlers that take two `tokio::sync::Mutex`es in opposite
//! orders: `transfer` locks the accounts, then the ledger; `audit` locks the ledger, then the
//! accounts. Its tests pass (the handlers never run at the same moment) and it hangs in
//! production the day they do. With the import swapped to `lockdep::tokio::sync`, the first
//! run that has seen both orders reports the possible deadlock, however far apart the two
//! requests ran and on whichever workers their tasks moved.
//!
//! Run: `cargo run --features tokio --example tokio_handlers`

use std::sync::Arc;
use std::time::Duration;

// The only edit: `use tokio::sync::Mutex;` becomes
use lockdep::tokio::sync::Mutex;

struct Bank {
    accounts: Mutex<Vec<i64>>,
    ledger: Mutex<Vec<String>>,
}

/// Moves `amount` from account `from` to `to`: accounts, then ledger.
async fn transfer(bank: &Bank, from: usize, to: usize, amount: i64) {
    let mut accounts = bank.accounts.lock().await;
    accounts[from] -= amount;
    accounts[to] += amount;
    tokio::task::yield_now().await; // may resume on another worker: the task keeps its locks
    bank.ledger
        .lock()
        .await
        .push(format!("{from} -> {to}: {amount}"));
}

/// Checks that the ledger matches the accounts: ledger, then accounts.
async fn audit(bank: &Bank) -> (usize, i64) {
    let ledger = bank.ledger.lock().await;
    let accounts = bank.accounts.lock().await; // the other order: a possible deadlock
    (ledger.len(), accounts.iter().sum())
}

fn main() {
    lockdep::set_mode(lockdep::Mode::Collect);
    // `#[tokio::main(flavor = "multi_thread", worker_threads = 2)]`, spelled out: the examples
    // build without tokio's macros (and their proc-macro dependencies).
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
        .block_on(serve());
}

async fn serve() {
    let bank = Arc::new(Bank {
        accounts: Mutex::new(vec![100, 100]),
        ledger: Mutex::new(Vec::new()),
    });

    // Two requests, a while apart: this run never deadlocks.
    let b = Arc::clone(&bank);
    tokio::spawn(async move { transfer(&b, 0, 1, 30).await })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let b = Arc::clone(&bank);
    let (entries, total) = tokio::spawn(async move { audit(&b).await }).await.unwrap();
    println!("audit: {entries} ledger entries, total {total}");

    let violations = lockdep::take_violations();
    for v in &violations {
        println!("{v}");
    }
    assert!(
        violations
            .iter()
            .any(|v| v.kind() == lockdep::ViolationKind::CircularDependency),
        "the ABBA between the handlers is reported"
    );
}
