//! Model 4, take vs take: worker 0 takes its single-use session (a TLS 1.3
//! ticket) while worker 1, whose slot is empty, borrows it with
//! `Reuse::Take`.
//!
//! Checked: exactly one of them gets the session (never both: a ticket used
//! twice; never neither: a lost one), and it is freed exactly once.
//! Outcome: what worker 0's take got, what worker 1's borrow got, the slot
//! at the end.

use crate::common::{
    Ctx, Env, Sess, assert_lock_free_within_rwlock, explore, join, lock_free, rwlock,
};
use loom::sync::Arc;
use tls_slots::{Reuse, SessionTable, SlotAccess, WorkerId};

const W0: WorkerId = WorkerId::new(0);
const W1: WorkerId = WorkerId::new(1);

type Outcome = (Option<u64>, Option<(usize, u64)>, Option<u64>);

fn scenario<T: SessionTable<Ctx, Sess>>(env: &Env<T>) -> Outcome {
    env.table.load().store(W0, Sess::new(11)).unwrap();

    let owner = {
        let table = Arc::clone(&env.table);
        loom::thread::spawn(move || table.load().take(W0).unwrap().map(|s| s.value()))
    };
    let borrowed = env
        .table
        .load()
        .borrow(W1, Reuse::Take)
        .unwrap()
        .map(|b| (b.from.index(), b.session.value()));
    let taken = join(owner);

    let winners = usize::from(taken.is_some()) + usize::from(borrowed.is_some());
    assert_eq!(winners, 1, "single-use session handed out {winners} times");
    let fin = env.table.load().get(W0).unwrap().map(|s| s.value());
    assert_eq!(fin, None);
    (taken, borrowed, fin)
}

#[test]
#[cfg_attr(tls_slots_bug = "take_not_atomic", should_panic)]
fn take_vs_take() {
    let lf = explore("take_vs_take", "lock-free", || lock_free(2), scenario);
    let rw = explore("take_vs_take", "rwlock", || rwlock(2), scenario);
    assert_lock_free_within_rwlock("take_vs_take", &rw, &lf);
}
