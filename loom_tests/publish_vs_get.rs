//! Model 6, publication: a worker makes a session and stores it into its
//! empty slot while another thread (sharing the worker index, which the
//! design must survive) copies that slot.
//!
//! Checked: a copied session is fully written: its loom cell is written when
//! the session is made, so a publication without a Release/Acquire pair
//! between the store and the copy is a reported data race.
//! Outcome: what the copier got.

use crate::common::{
    Ctx, Env, Sess, assert_lock_free_within_rwlock, explore, join, lock_free, rwlock,
};
use loom::sync::Arc;
use tls_slots::{SessionTable, SlotAccess, WorkerId};

const W0: WorkerId = WorkerId::new(0);

type Outcome = Option<u64>;

fn scenario<T: SessionTable<Ctx, Sess>>(env: &Env<T>) -> Outcome {
    let storer = {
        let table = Arc::clone(&env.table);
        loom::thread::spawn(move || {
            let now = table.load();
            now.store(W0, Sess::new(11)).unwrap();
        })
    };
    let got = env.table.load().get(W0).unwrap().map(|s| s.value());
    join(storer);
    assert!(got.is_none() || got == Some(11), "copied {got:?}");
    got
}

#[test]
#[cfg_attr(tls_slots_bug = "relaxed_publish", should_panic)]
fn publish_vs_get() {
    let lf = explore("publish_vs_get", "lock-free", || lock_free(1), scenario);
    let rw = explore("publish_vs_get", "rwlock", || rwlock(1), scenario);
    assert_lock_free_within_rwlock("publish_vs_get", &rw, &lf);
}
