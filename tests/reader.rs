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
