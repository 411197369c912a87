//! Model 5, the commit's release of the old generation vs a pinned reader: a
//! reader copies generation 1's session while a commit unlinks it, hands it
//! to the epoch, forces the epoch forward and reclaims.
//!
//! Checked: the reader's copy is intact (a free racing it is a reported
//! race; `Drop` poisons the value), the flushed session is freed exactly
//! once, before the collector goes (no leak, no double free).
//! Outcome: what the reader got.

use crate::common::{
    Ctx, Env, Sess, assert_lock_free_within_rwlock, explore, join, lock_free, rwlock,
};
use loom::sync::Arc;
use tls_slots::{SessionTable, SlotAccess, WorkerId};

const W0: WorkerId = WorkerId::new(0);

type Outcome = Option<u64>;

fn scenario<T: SessionTable<Ctx, Sess>>(env: &Env<T>) -> Outcome {
    env.table.load().store(W0, Sess::new(11)).unwrap();

    let reader = {
        let table = Arc::clone(&env.table);
        loom::thread::spawn(move || table.load().get(W0).unwrap().map(|s| s.value()))
    };
    env.table.commit(2);
    // The commit's own flush moved the epoch once; one more, then the
    // table's reclaim, frees the batch if the reader is not pinned.
    env.reclaim(1);
    let got = join(reader);
    assert!(got.is_none() || got == Some(11), "reader got {got:?}");
    got
}

#[test]
#[cfg_attr(
    any(tls_slots_bug = "retire_without_defer", tls_slots_bug = "early_unpin"),
    should_panic
)]
fn release_vs_pinned_reader() {
    let lf = explore(
        "release_vs_pinned_reader",
        "lock-free",
        || lock_free(1),
        scenario,
    );
    let rw = explore("release_vs_pinned_reader", "rwlock", || rwlock(1), scenario);
    assert_lock_free_within_rwlock("release_vs_pinned_reader", &rw, &lf);
}
