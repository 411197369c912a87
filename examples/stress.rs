//! A small multi-threaded stress run over both designs, for the memory
//! checkers: `.ci/miri` (tree borrows), `.ci/tsan` (ThreadSanitizer) and
//! `valgrind --error-exitcode=1` (run by `.ci/valgrind`).
//!
//! Worker threads store, take, get, borrow and clear, and now and then
//! commit a new generation. The lock-free table runs on a collector of its own that is
//! dropped at the end, so every deferred free actually runs and a leak or a
//! double free is the tool's to see. Every session carries a checksum that a
//! reader verifies, so a torn or freed session fails the run even without a
//! tool. `STRESS_ROUNDS` sets the work (default 20,000 operations per thread).

use std::sync::Arc;
use std::thread;
use tls_slots::epoch::Collector;
use tls_slots::{LockFreeTable, Reuse, RwLockTable, SessionTable, SlotAccess, Snapshot, WorkerId};

const WORKERS: usize = 3;

/// A heap session whose bytes must all equal its generation tag.
#[derive(Clone, Debug)]
struct Session {
    generation: u64,
    bytes: Vec<u8>,
}

impl Session {
    fn new(generation: u64, salt: u64) -> Self {
        Self {
            generation,
            bytes: vec![generation as u8; 16 + (salt % 48) as usize],
        }
    }

    fn check(&self, loaded: u64) {
        assert_eq!(self.generation, loaded, "session of another generation");
        assert!(
            self.bytes.iter().all(|&b| b == self.generation as u8),
            "torn session"
        );
    }
}

fn run<T: SessionTable<u64, Session>>(table: T, rounds: u64) {
    let table = Arc::new(table);
    thread::scope(|scope| {
        for w in 0..WORKERS {
            let table = Arc::clone(&table);
            scope.spawn(move || {
                let me = WorkerId::new(w);
                let mut x = w as u64 + 1;
                for i in 0..rounds {
                    // xorshift: cheap, deterministic per thread.
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if x % 64 == 0 {
                        // The context is the new generation's number, read
                        // from its slots (commit_with must not call back
                        // into the table).
                        table.commit_with(|slots| slots.generation().get());
                        continue;
                    }
                    let now = table.load();
                    let generation = now.generation().get();
                    assert_eq!(*now.context(), generation);
                    let check = |s: Option<Session>| {
                        if let Some(s) = s {
                            s.check(generation);
                        }
                    };
                    match x % 7 {
                        0..=2 => {
                            now.store(me, Session::new(generation, i)).unwrap();
                        }
                        3 => check(now.get(me).unwrap()),
                        4 => check(now.take(me).unwrap()),
                        5 => {
                            let reuse = if x & 8 == 0 { Reuse::Copy } else { Reuse::Take };
                            check(now.borrow(me, reuse).unwrap().map(|b| b.session));
                        }
                        _ => {
                            now.clear(me).unwrap();
                        }
                    }
                }
            });
        }
    });
    let table = Arc::into_inner(table).expect("threads are joined");
    println!("{:<9} {}", T::DESIGN, table.counters());
}

fn main() {
    let rounds = std::env::var("STRESS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20_000);
    run(RwLockTable::new(WORKERS, 1), rounds);
    // Its own collector: dropped below, after the table, so every deferred
    // free has run before the process exits.
    let collector = Collector::new();
    run(
        LockFreeTable::with_collector(WORKERS, collector.clone(), 1),
        rounds,
    );
    drop(collector);
    // And the default (global collector) path, which the proxies use.
    run(LockFreeTable::new(WORKERS, 1), rounds);
}
