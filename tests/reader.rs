//! `LockFreeTable::reader()`: the cached read path behaves like `load()`.

use tls_slots::{LockFreeTable, SessionTable, SlotAccess, Snapshot, StoreOutcome, WorkerId};

#[test]
fn reader_sees_the_same_generation_as_load_and_follows_commits() {
    let table = LockFreeTable::<u64, Vec<u8>>::new(2, 1);
    let me = WorkerId::new(0);
    let mut reader = table.reader();
    {
        let current = reader.load();
        assert_eq!(*current.context(), 1);
        assert_eq!(current.generation(), table.generation());
        assert_eq!(current.store(me, vec![1; 200]), Ok(StoreOutcome::Stored));
    }
    assert_eq!(table.load().get(me), Ok(Some(vec![1; 200])));

    let next = table.commit(2);
    let current = reader.load();
    assert_eq!(current.generation(), next);
    assert_eq!(*current.context(), 2);
    assert_eq!(current.get(me), Ok(None), "a commit flushes every slot");
}

#[test]
fn a_generation_held_by_a_reader_is_retired_by_commit() {
    let table = LockFreeTable::<u64, Vec<u8>>::new(1, 1);
    let me = WorkerId::new(0);
    let slots_before = table.slots();
    let mut reader = table.reader();
    let _ = reader.load();
    table.commit(2);
    // The old generation discards stores even though the reader still caches it
    // until its next load.
    assert_eq!(
        slots_before.store(me, vec![0; 8]),
        Ok(StoreOutcome::StaleGeneration)
    );
    let current = reader.load();
    assert_eq!(current.store(me, vec![2; 8]), Ok(StoreOutcome::Stored));
    assert_eq!(current.take(me), Ok(Some(vec![2; 8])));
    assert_eq!(table.counters().stale, 1);
}

#[test]
fn a_reclaimer_thread_frees_flushed_sessions_and_exits_with_the_table() {
    let table = LockFreeTable::<u64, Vec<u8>>::new(2, 0);
    let reclaimer = table.spawn_reclaimer().expect("spawn");
    for generation in 1..=50u64 {
        let current = table.load();
        current.store(WorkerId::new(0), vec![1; 64]).unwrap();
        current.store(WorkerId::new(1), vec![2; 64]).unwrap();
        drop(current);
        table.commit(generation);
        // A commit never frees while the reclaimer holds the receiver.
        assert_eq!(table.reclaim(), 0);
    }
    assert_eq!(table.counters().flushed, 100);
    // Give the epoch its chance: batches reach the reclaimer only after every
    // guard pinned at their commit is gone. Bounded, so a bug fails instead of
    // hanging.
    let nudge = || tls_slots::epoch::pin().flush();
    for _ in 0..100_000 {
        if table.counters().reclaimed == 100 {
            break;
        }
        nudge();
        std::thread::yield_now();
    }
    assert_eq!(table.counters().reclaimed, 100);
    drop(table);
    for _ in 0..100_000 {
        if reclaimer.is_finished() {
            break;
        }
        nudge();
        std::thread::yield_now();
    }
    assert!(
        reclaimer.is_finished(),
        "the reclaimer exits with the table"
    );
    assert_eq!(reclaimer.join().unwrap(), 100);
}
