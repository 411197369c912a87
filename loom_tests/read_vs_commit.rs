//! Model 1, read vs commit: a reader loads the current generation and copies
//! its worker's session while a committer publishes the next generation
//! (reclamation racing the reader is model 5's business; here it runs after
//! the join).
//!
//! Checked in every interleaving, for both designs: the reader's context and
//! slots belong to one generation, any session it gets was stored in that
//! generation and is intact, after the commit nothing of generation 1 is
//! served, and every session is freed exactly once (loom cells and `Track`).
//! Outcome: (reader's generation, what it got), what the final take got.

use crate::common::{
    Ctx, Env, Sess, assert_lock_free_within_rwlock, explore, join, lock_free, rwlock,
};
use loom::sync::Arc;
use tls_slots::{SessionTable, SlotAccess, Snapshot, WorkerId};

const W0: WorkerId = WorkerId::new(0);

type Outcome = ((u64, Option<u64>), Option<u64>);

fn scenario<T: SessionTable<Ctx, Sess>>(env: &Env<T>) -> Outcome {
    env.table.load().store(W0, Sess::new(11)).unwrap();

    let reader = {
        let table = Arc::clone(&env.table);
        loom::thread::spawn(move || {
            let now = table.load();
            let generation = now.generation().get();
            assert_eq!(*now.context(), generation, "context of another generation");
            let got = now.get(W0).unwrap().map(|s| s.value());
            if let Some(value) = got {
                assert_eq!(value / 10, generation, "session of another generation");
            }
            (generation, got)
        })
    };

    let second = env.table.commit(2);
    // Read first, assert after: a panic while loom objects are live in this
    // statement would panic again in their destructors and abort.
    let after = env.table.load().get(W0).unwrap().map(|s| s.value());
    assert_eq!(after, None, "commit leaves empty slots");
    env.table
        .load()
        .store(W0, Sess::new(second.get() * 10 + 1))
        .unwrap();
    let seen = join(reader);
    let last = env.table.load().take(W0).unwrap().map(|s| s.value());
    (seen, last)
}

#[test]
#[cfg_attr(tls_slots_bug = "commit_carries_sessions", should_panic)]
fn read_vs_commit() {
    // Lock-free first: under an injected bug the test stops at its panic.
    let lf = explore("read_vs_commit", "lock-free", || lock_free(1), scenario);
    let rw = explore("read_vs_commit", "rwlock", || rwlock(1), scenario);
    assert_lock_free_within_rwlock("read_vs_commit", &rw, &lf);
}
