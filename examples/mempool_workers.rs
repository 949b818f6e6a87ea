//! A worker pool that receives pool elements over a channel: the element's hold follows it to
//! the worker that adopts it.
//!
//! A submitter takes I/O requests from `request_pool` and sends them to two workers. Each
//! worker adopts what it receives (`Element::adopt`), so from then on the worker, not the
//! submitter, holds the pool for the checker:
//!
//! - the submitter hands each request off as it sends it, and goes on to take the `journal`
//!   lock while its requests are out: it holds no element any more, so that is no
//!   `request_pool → journal` (had it kept them charged, lockdep would report a livelock that
//!   cannot happen);
//! - a worker takes the `journal` lock while it holds a request, and a transaction commit
//!   holds the `journal` while allocating memory: that is the real livelock
//!   (`request_pool → journal → ALLOC → request_pool`), found in the worker and reported.
//!
//! `cargo run --example mempool_workers` prints the one report: the worker's.

use lockdep::mempool::{Element, Mempool};
use lockdep::{LockClass, Mode, Mutex, ViolationKind};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;

static JOURNAL: LockClass = LockClass::new("journal");

fn main() {
    lockdep::set_mode(Mode::Collect);
    let pool = Mempool::named("request_pool", 4, || Some(vec![0u8; 512]));
    let journal = Arc::new(Mutex::with_class(0u64, &JOURNAL));

    // A transaction commit: allocates under the journal (journal → ALLOC).
    {
        let _j = journal.lock();
        lockdep::might_alloc();
    }

    // Every worker has adopted its request before the submitter takes the journal.
    let adopted = Arc::new(Barrier::new(3));
    let mut workers = Vec::new();
    let mut queues = Vec::new();
    for id in 0..2u8 {
        let (tx, rx) = mpsc::channel::<Element<Vec<u8>>>();
        queues.push(tx);
        let (journal, adopted) = (Arc::clone(&journal), Arc::clone(&adopted));
        let worker = thread::Builder::new().name(format!("worker-{id}"));
        workers.push(
            worker
                .spawn(move || {
                    for mut request in rx {
                        request.adopt(); // this worker holds request_pool now
                        request[0] = id;
                        adopted.wait();
                        adopted.wait(); // the submitter has taken the journal
                        if id == 1 {
                            // Logs the write under the journal while holding the request: the real
                            // livelock, request_pool → journal.
                            *journal.lock() += 1;
                        }
                    } // each request goes back to the pool here
                })
                .unwrap(),
        );
    }

    // The submitter sends one request to each worker, then takes the journal itself while
    // they are out: it holds none of them any more. Each request is handed off as it is sent:
    // the next `alloc()` is then not an allocation under an element of the pool (which the
    // checker would rightly report: reclaim may wait for that element), and the submitter is
    // free of it even before the worker adopts it.
    for queue in &queues {
        let request = pool.alloc();
        request.hand_off();
        queue.send(request).unwrap();
    }
    adopted.wait();
    *journal.lock() += 1;
    adopted.wait();
    drop(queues);
    for worker in workers {
        worker.join().unwrap();
    }

    let livelocks: Vec<_> = lockdep::take_violations()
        .into_iter()
        .filter(|v| v.kind() == ViolationKind::MempoolLivelock)
        .collect();
    for v in &livelocks {
        println!("{v}");
    }
    // Built without the checker nothing is reported; with it, exactly one livelock, and it is
    // the worker's (a report is recorded once, at its first sighting: the submitter, first to
    // take the journal, would have been it had it still been charged).
    let expected = usize::from(lockdep::is_checking());
    assert_eq!(livelocks.len(), expected, "one report");
    assert!(livelocks
        .iter()
        .all(|v| v.to_string().contains("held by worker-1")));
    println!(
        "{} mempool livelock(s) reported: the worker's; none for the submitter",
        livelocks.len()
    );
}
