//! Model 3, borrow vs replace: worker 1, whose own slot is empty, copies
//! worker 0's session (HAProxy 2.9's borrow) while worker 0 replaces that
//! session (reclamation runs after the join: a free without deferral is
//! still a free racing the copy).
//!
//! Checked: the borrower gets the old or the new session, intact and fully
//! written (its loom cell is written when it is made, so a publication
//! without Release/Acquire is a reported data race), never a freed one (a
//! free racing the copy is a reported race, and `Drop` poisons the value).
//! Outcome: what the borrower got (from, value), worker 0's final session.

use crate::common::{
    Ctx, Env, Sess, assert_lock_free_within_rwlock, explore, join, lock_free, rwlock,
};
use loom::sync::Arc;
use tls_slots::{Reuse, SessionTable, SlotAccess, WorkerId};

const W0: WorkerId = WorkerId::new(0);
const W1: WorkerId = WorkerId::new(1);

type Outcome = (Option<(usize, u64)>, Option<u64>);

fn scenario<T: SessionTable<Ctx, Sess>>(env: &Env<T>) -> Outcome {
    env.table.load().store(W0, Sess::new(11)).unwrap();

    let borrower = {
        let table = Arc::clone(&env.table);
        loom::thread::spawn(move || {
            let borrowed = table.load().borrow(W1, Reuse::Copy).unwrap();
            borrowed.map(|b| (b.from.index(), b.session.value()))
        })
    };

    // The new session is made after `load()`, so nothing but the slot
    // itself can order its contents before the borrower's copy.
    let now = env.table.load();
    now.store(W0, Sess::new(12)).unwrap();
    drop(now);

    let borrowed = join(borrower);
    if let Some((from, value)) = borrowed {
        assert_eq!(from, 0);
        assert!(value == 11 || value == 12, "borrowed {value}");
    }
    let fin = env.table.load().get(W0).unwrap().map(|s| s.value());
    assert_eq!(fin, Some(12));
    (borrowed, fin)
}

#[test]
#[cfg_attr(
    any(
        tls_slots_bug = "free_without_defer",
        tls_slots_bug = "relaxed_publish"
    ),
    should_panic
)]
fn borrow_vs_replace() {
    let lf = explore("borrow_vs_replace", "lock-free", || lock_free(2), scenario);
    let rw = explore("borrow_vs_replace", "rwlock", || rwlock(2), scenario);
    assert_lock_free_within_rwlock("borrow_vs_replace", &rw, &lf);
}
