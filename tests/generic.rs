//! One behavioural suite, run against both designs.
//!
//! Every test is a generic function over `T: SessionTable`; the `both!` macro
//! instantiates it for `RwLockTable` and `LockFreeTable`, so the two designs
//! are held to the same semantics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use tls_slots::{
    Borrowed, Counters, GenerationId, LockFreeTable, Reuse, RwLockTable, SessionTable, SlotAccess,
    SlotError, Snapshot, StoreOutcome, WorkerId,
};

/// A session that says where it came from, with a heap payload so that a
/// use-after-free or double free has something to corrupt.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tagged {
    generation: u64,
    worker: usize,
    seq: u64,
    payload: Vec<u8>,
}

impl Tagged {
    fn new(generation: GenerationId, worker: WorkerId, seq: u64) -> Self {
        Self {
            generation: generation.get(),
            worker: worker.index(),
            seq,
            payload: vec![seq as u8; 200],
        }
    }
}

/// The context: the generation number it was committed for.
type Ctx = u64;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod rwlock {
            $(#[test] fn $name() { super::$name::<tls_slots::RwLockTable<super::Ctx, super::Tagged>>() })*
        }
        mod lock_free {
            $(#[test] fn $name() { super::$name::<tls_slots::LockFreeTable<super::Ctx, super::Tagged>>() })*
        }
    };
}

both!(
    starts_empty_in_generation_one,
    get_copies_and_take_removes,
    store_replaces,
    out_of_range_worker_is_a_typed_error_and_changes_nothing,
    commit_publishes_empty_slots_and_retires_the_old_generation,
    commit_with_hands_over_the_new_generations_slots,
    borrow_uses_the_last_storer_and_forgets_it_when_empty,
    clear_removes_only_the_workers_session,
    counters_add_up_in_a_sequential_script,
    concurrent_readers_only_see_sessions_of_their_generation,
    commit_storm_from_two_committers_numbers_every_generation,
);

const W0: WorkerId = WorkerId::new(0);
const W1: WorkerId = WorkerId::new(1);
const W2: WorkerId = WorkerId::new(2);

fn s(generation: u64, worker: WorkerId, seq: u64) -> Tagged {
    Tagged::new(GenerationId::new(generation), worker, seq)
}

fn starts_empty_in_generation_one<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(3, 1);
    assert_eq!(table.generation(), GenerationId::FIRST);
    assert_eq!(table.workers(), 3);
    let now = table.load();
    assert_eq!(*now.context(), 1);
    assert_eq!(now.generation(), GenerationId::FIRST);
    for w in 0..3 {
        assert_eq!(now.get(WorkerId::new(w)), Ok(None));
        assert_eq!(now.take(WorkerId::new(w)), Ok(None));
    }
    assert_eq!(now.borrow(W0, Reuse::Copy), Ok(None));
    assert_eq!(table.counters().misses, 7);
}

fn get_copies_and_take_removes<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(2, 1);
    let now = table.load();
    assert_eq!(now.store(W0, s(1, W0, 7)), Ok(StoreOutcome::Stored));
    assert_eq!(now.get(W0), Ok(Some(s(1, W0, 7))));
    assert_eq!(now.get(W0), Ok(Some(s(1, W0, 7))), "get leaves it in place");
    assert_eq!(now.take(W0), Ok(Some(s(1, W0, 7))));
    assert_eq!(now.take(W0), Ok(None), "take is single use");
    assert_eq!(now.get(W1), Ok(None), "other workers have their own slot");
}

fn store_replaces<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(1, 1);
    let now = table.load();
    now.store(W0, s(1, W0, 1)).unwrap();
    now.store(W0, s(1, W0, 2)).unwrap();
    assert_eq!(now.take(W0), Ok(Some(s(1, W0, 2))));
    assert_eq!(now.take(W0), Ok(None));
}

fn out_of_range_worker_is_a_typed_error_and_changes_nothing<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(2, 1);
    let now = table.load();
    let err = Err(SlotError::WorkerOutOfRange {
        worker: W2,
        workers: 2,
    });
    assert_eq!(
        now.store(W2, s(1, W2, 1)),
        err.map(|()| StoreOutcome::Stored)
    );
    assert_eq!(now.get(W2), err.map(|()| None));
    assert_eq!(now.take(W2), err.map(|()| None));
    assert_eq!(now.borrow(W2, Reuse::Take), err.map(|()| None));
    assert_eq!(now.clear(W2), err.map(|()| false));
    assert_eq!(table.counters(), Counters::default());
    let message = SlotError::WorkerOutOfRange {
        worker: W2,
        workers: 2,
    }
    .to_string();
    assert!(
        message.contains("worker 2") && message.contains("0..2"),
        "{message}"
    );
}

fn commit_publishes_empty_slots_and_retires_the_old_generation<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(2, 1);
    let before = table.load();
    let kept = table.slots();
    before.store(W0, s(1, W0, 1)).unwrap();
    before.store(W1, s(1, W1, 1)).unwrap();

    let second = table.commit(2);
    assert_eq!(second, GenerationId::new(2));
    assert_eq!(table.generation(), second);
    let after = table.load();
    assert_eq!(*after.context(), 2);
    assert_eq!(after.get(W0), Ok(None), "commit flushes every slot");
    assert_eq!(after.get(W1), Ok(None));

    // Handles on generation 1 no longer serve or accept anything.
    assert_eq!(before.get(W0), Ok(None));
    assert_eq!(kept.take(W1), Ok(None));
    assert_eq!(
        kept.store(W0, s(1, W0, 2)),
        Ok(StoreOutcome::StaleGeneration)
    );
    assert_eq!(
        before.store(W1, s(1, W1, 2)),
        Ok(StoreOutcome::StaleGeneration)
    );
    assert_eq!(
        after.get(W0),
        Ok(None),
        "a stale store never reaches the new generation"
    );
    assert_eq!(after.get(W1), Ok(None));

    let c = table.counters();
    assert_eq!((c.commits, c.flushed, c.stale), (1, 2, 4));
}

fn commit_with_hands_over_the_new_generations_slots<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(1, 1);
    let mut seen = None;
    let id = table.commit_with(|slots| {
        seen = Some(slots.clone());
        2
    });
    let slots = seen.expect("commit_with calls its closure");
    assert_eq!(slots.generation(), id);
    slots.store(W0, s(2, W0, 1)).unwrap();
    assert_eq!(table.load().get(W0), Ok(Some(s(2, W0, 1))));
    table.commit(3);
    assert_eq!(slots.get(W0), Ok(None));
}

fn borrow_uses_the_last_storer_and_forgets_it_when_empty<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(3, 1);
    let now = table.load();
    assert_eq!(now.borrow(W0, Reuse::Copy), Ok(None), "nobody stored yet");
    now.store(W1, s(1, W1, 1)).unwrap();
    assert_eq!(
        now.borrow(W1, Reuse::Copy),
        Ok(None),
        "never borrows from itself"
    );
    assert_eq!(
        now.borrow(W0, Reuse::Copy),
        Ok(Some(Borrowed {
            from: W1,
            session: s(1, W1, 1)
        }))
    );
    assert_eq!(
        now.get(W1),
        Ok(Some(s(1, W1, 1))),
        "a copy leaves it in place"
    );
    assert_eq!(
        now.borrow(W2, Reuse::Take),
        Ok(Some(Borrowed {
            from: W1,
            session: s(1, W1, 1)
        }))
    );
    assert_eq!(now.get(W1), Ok(None), "a take removes it");
    assert_eq!(now.borrow(W0, Reuse::Copy), Ok(None));
    // The hint is forgotten: worker 1 storing again is needed to borrow again.
    now.store(W2, s(1, W2, 2)).unwrap();
    assert_eq!(
        now.borrow(W0, Reuse::Take).unwrap().map(|b| b.from),
        Some(W2)
    );
    let c = table.counters();
    assert_eq!((c.borrows, c.stores), (3, 2));
}

fn clear_removes_only_the_workers_session<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(2, 1);
    let now = table.load();
    now.store(W0, s(1, W0, 1)).unwrap();
    now.store(W1, s(1, W1, 1)).unwrap();
    assert_eq!(now.clear(W0), Ok(true));
    assert_eq!(now.clear(W0), Ok(false));
    assert_eq!(now.get(W0), Ok(None));
    assert_eq!(now.get(W1), Ok(Some(s(1, W1, 1))));
    assert_eq!(table.counters().clears, 1);
}

fn counters_add_up_in_a_sequential_script<T: SessionTable<Ctx, Tagged>>() {
    let table = T::new(2, 1);
    let now = table.load();
    now.store(W0, s(1, W0, 1)).unwrap(); // store
    now.get(W0).unwrap(); // hit
    now.take(W0).unwrap(); // hit
    now.take(W0).unwrap(); // miss
    now.store(W1, s(1, W1, 1)).unwrap(); // store
    now.borrow(W0, Reuse::Copy).unwrap(); // borrow
    now.clear(W1).unwrap(); // clear
    now.borrow(W0, Reuse::Copy).unwrap(); // miss
    now.store(W1, s(1, W1, 2)).unwrap(); // store
    table.commit(2); // commit, flushes 1
    now.get(W1).unwrap(); // stale
    let c = table.counters();
    let expected = Counters {
        stores: 3,
        hits: 2,
        misses: 2,
        borrows: 1,
        clears: 1,
        stale: 1,
        commits: 1,
        flushed: 1,
        reclaimed: c.reclaimed,
    };
    assert_eq!(c, expected);
    assert!(c.reclaimed <= c.flushed);
}

/// Readers on real threads store and reuse sessions tagged with the
/// generation they loaded while a committer publishes a new generation as
/// fast as it can. Every session a reader gets must carry the generation of
/// the snapshot it read from, and that snapshot's context must name the same
/// generation. Counters must add up to what the threads did.
fn concurrent_readers_only_see_sessions_of_their_generation<T: SessionTable<Ctx, Tagged>>() {
    const READERS: usize = 3;
    let table = Arc::new(T::new(READERS, 1));
    let stop = Arc::new(AtomicBool::new(false));
    let commits = {
        let (table, stop) = (Arc::clone(&table), Arc::clone(&stop));
        thread::spawn(move || {
            let mut commits = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let next = table.generation().get() + 1;
                let id = table.commit(next);
                assert_eq!(
                    id.get(),
                    next,
                    "a single committer numbers generations in order"
                );
                commits += 1;
                thread::sleep(Duration::from_micros(50));
            }
            commits
        })
    };
    let readers: Vec<_> = (0..READERS)
        .map(|w| {
            let table = Arc::clone(&table);
            thread::spawn(move || {
                let me = WorkerId::new(w);
                let (mut stored, mut reads, mut stale_stores) = (0u64, 0u64, 0u64);
                let deadline = Instant::now() + Duration::from_millis(300);
                let mut seq = 0;
                while Instant::now() < deadline {
                    seq += 1;
                    let now = table.load();
                    let generation = now.generation();
                    assert_eq!(
                        *now.context(),
                        generation.get(),
                        "context and slots are one generation"
                    );
                    let found = match seq % 4 {
                        0 => now.take(me).unwrap(),
                        1 => now.get(me).unwrap(),
                        2 => now.borrow(me, Reuse::Copy).unwrap().map(|b| b.session),
                        _ => now.borrow(me, Reuse::Take).unwrap().map(|b| b.session),
                    };
                    reads += 1;
                    if let Some(session) = found {
                        assert_eq!(
                            session.generation,
                            generation.get(),
                            "session crossed a commit"
                        );
                        assert_eq!(session.payload, vec![session.seq as u8; 200]);
                    }
                    match now.store(me, Tagged::new(generation, me, seq)).unwrap() {
                        StoreOutcome::Stored => stored += 1,
                        StoreOutcome::StaleGeneration => stale_stores += 1,
                    }
                }
                (stored, reads, stale_stores)
            })
        })
        .collect();
    let (mut stored, mut reads, mut stale_stores) = (0, 0, 0);
    for reader in readers {
        let (s, r, st) = reader.join().expect("reader panicked");
        stored += s;
        reads += r;
        stale_stores += st;
    }
    stop.store(true, Ordering::Relaxed);
    let commits = commits.join().expect("committer panicked");
    let c = table.counters();
    assert_eq!(c.stores, stored);
    assert_eq!(c.commits, commits);
    assert_eq!(table.generation().get(), 1 + commits);
    assert_eq!(
        c.hits + c.misses + c.borrows + c.stale,
        reads + stale_stores,
        "every read is a hit, a miss, a borrow or stale; every discarded store is stale"
    );
    assert!(commits > 0 && stored > 0);
}

fn commit_storm_from_two_committers_numbers_every_generation<T: SessionTable<Ctx, Tagged>>() {
    let table = Arc::new(T::new(2, 0));
    let done = Arc::new(AtomicUsize::new(0));
    let committers: Vec<_> = (0..2)
        .map(|_| {
            let table = Arc::clone(&table);
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut ids = Vec::new();
                for _ in 0..500 {
                    ids.push(table.commit_with(|slots| slots.generation().get()).get());
                }
                done.fetch_add(1, Ordering::Relaxed);
                ids
            })
        })
        .collect();
    let reader = {
        let (table, done) = (Arc::clone(&table), Arc::clone(&done));
        thread::spawn(move || {
            while done.load(Ordering::Relaxed) < 2 {
                let now = table.load();
                assert_eq!(*now.context(), now.generation().get());
                now.store(W0, Tagged::new(now.generation(), W0, 0)).unwrap();
                if let Some(s) = now.take(W0).unwrap() {
                    assert_eq!(s.generation, now.generation().get());
                }
            }
        })
    };
    let mut all: Vec<u64> = committers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    reader.join().unwrap();
    all.sort_unstable();
    let expected: Vec<u64> = (2..=1001).collect();
    assert_eq!(all, expected, "every commit got its own number, none lost");
    assert_eq!(table.generation().get(), 1001);
    assert_eq!(*table.load().context(), 1001);
    assert_eq!(table.counters().commits, 1000);
}

// ---------------------------------------------------------------------------
// Design-specific tests.

/// Counts live instances so leaks and double frees show up as a wrong count.
#[derive(Debug)]
struct Counted {
    live: Arc<AtomicU64>,
}

impl Counted {
    fn new(live: &Arc<AtomicU64>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Self {
            live: Arc::clone(live),
        }
    }
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        Self::new(&self.live)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let before = self.live.fetch_sub(1, Ordering::SeqCst);
        assert!(before > 0, "double free");
    }
}

#[test]
fn lock_free_frees_every_session_once_through_its_own_collector() {
    let live = Arc::new(AtomicU64::new(0));
    let collector = tls_slots::epoch::Collector::new();
    let table = LockFreeTable::<u64, Counted>::with_collector(2, collector.clone(), 1);
    for round in 0..50u64 {
        let now = table.load();
        now.store(W0, Counted::new(&live)).unwrap();
        now.store(W1, Counted::new(&live)).unwrap();
        now.store(W0, Counted::new(&live)).unwrap(); // replaces
        drop(now.take(W1).unwrap());
        drop(now.get(W0).unwrap());
        drop(now);
        table.commit(round + 2);
    }
    let flushed = table.counters().flushed;
    assert_eq!(flushed, 50, "each commit flushed worker 0's session");
    drop(table);
    drop(collector);
    assert_eq!(
        live.load(Ordering::SeqCst),
        0,
        "every session freed exactly once"
    );
}

#[test]
fn lock_free_reclaim_frees_flushed_sessions_once_readers_moved_on() {
    let table = LockFreeTable::<u64, Tagged>::new(1, 1);
    for round in 0..20 {
        table.load().store(W0, s(round + 1, W0, 1)).unwrap();
        table.commit(round + 2);
    }
    // Each commit frees what earlier ones retired; nudge the epoch along.
    let deadline = Instant::now() + Duration::from_secs(10);
    while table.counters().reclaimed < 19 && Instant::now() < deadline {
        for _ in 0..64 {
            tls_slots::epoch::pin().flush();
        }
        table.reclaim();
    }
    let c = table.counters();
    assert_eq!(c.flushed, 20);
    assert!(c.reclaimed >= 19, "reclaimed {} of 20", c.reclaimed);
}

#[test]
fn rwlock_frees_inline_on_commit() {
    let live = Arc::new(AtomicU64::new(0));
    let table = RwLockTable::<u64, Counted>::new(2, 1);
    table.load().store(W0, Counted::new(&live)).unwrap();
    table.load().store(W1, Counted::new(&live)).unwrap();
    table.commit(2);
    assert_eq!(live.load(Ordering::SeqCst), 0);
    let c = table.counters();
    assert_eq!((c.flushed, c.reclaimed), (2, 2));
}

/// HAProxy 2.4's window, reproduced: a handshake that loaded generation 1,
/// finishes after the commit and stores into the flushed slot; the next
/// connection of generation 2 then resumes a generation-1 session.
#[test]
fn seed_faithful_rwlock_resumes_a_pre_commit_session_after_commit() {
    let table = RwLockTable::<u64, Tagged>::faithful_seed(1, 1);
    let started_before_commit = table.slots();
    table.commit(2);
    assert_eq!(
        started_before_commit.store(W0, s(1, W0, 1)),
        Ok(StoreOutcome::Stored),
        "the seed does not know which context the session came from"
    );
    let next_connection = table.load();
    assert_eq!(*next_connection.context(), 2);
    assert_eq!(
        next_connection.take(W0).unwrap().map(|s| s.generation),
        Some(1)
    );
}

/// The same straddling handshake against both fixed designs.
#[test]
fn straddling_store_is_never_resumed_after_commit() {
    fn check<T: SessionTable<Ctx, Tagged>>() {
        let table = T::new(1, 1);
        let started_before_commit = table.slots();
        table.commit(2);
        assert_eq!(
            started_before_commit.store(W0, s(1, W0, 1)),
            Ok(StoreOutcome::StaleGeneration)
        );
        assert_eq!(table.load().take(W0), Ok(None));
    }
    check::<RwLockTable<Ctx, Tagged>>();
    check::<LockFreeTable<Ctx, Tagged>>();
}
