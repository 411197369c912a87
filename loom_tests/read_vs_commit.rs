//! A reader loads the current generation and reuses its worker's session
//! while a committer publishes the next generation.
//!
//! Checked in every interleaving, for both designs: the reader's context and
//! slots belong to one generation, any session it gets was stored in that
//! generation, and after the commit nothing of generation 1 is served.

use loom::sync::Arc;
use tls_slots::{
    GenerationId, LockFreeTable, RwLockTable, SessionTable, SlotAccess, Snapshot, WorkerId,
};

const W0: WorkerId = WorkerId::new(0);

/// A session tagged with its generation; a `Vec` so that freeing it while it
/// is read is a real use-after-free for loom to find.
#[derive(Clone, Debug, PartialEq)]
struct Tagged {
    generation: u64,
    body: Vec<u8>,
}

fn tagged(generation: GenerationId) -> Tagged {
    Tagged {
        generation: generation.get(),
        body: vec![generation.get() as u8; 4],
    }
}

fn model<T: SessionTable<u64, Tagged>>(table: impl Fn() -> T + Sync + Send + 'static) {
    loom::model(move || {
        let table = Arc::new(table());
        table.load().store(W0, tagged(GenerationId::FIRST)).unwrap();

        let reader = {
            let table = Arc::clone(&table);
            loom::thread::spawn(move || {
                let now = table.load();
                assert_eq!(*now.context(), now.generation().get());
                if let Some(session) = now.get(W0).unwrap() {
                    assert_eq!(session.generation, now.generation().get());
                    assert_eq!(session.body, vec![session.generation as u8; 4]);
                }
            })
        };

        let second = table.commit(2);
        assert_eq!(
            table.load().get(W0).unwrap(),
            None,
            "commit leaves empty slots"
        );
        table.load().store(W0, tagged(second)).unwrap();
        reader.join().unwrap();
        assert_eq!(table.load().take(W0).unwrap(), Some(tagged(second)));
    });
}

#[test]
fn read_vs_commit_rwlock() {
    model(|| RwLockTable::<u64, Tagged>::new(1, 1));
}

#[test]
fn read_vs_commit_lock_free() {
    model(|| {
        LockFreeTable::<u64, Tagged>::with_collector(1, tls_slots::epoch::Collector::new(), 1)
    });
}
