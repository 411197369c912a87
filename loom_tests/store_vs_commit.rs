//! Model 2, store vs commit: a handshake that loaded generation 1 stores its
//! new session while a commit publishes generation 2 (HAProxy's
//! stale-identity window, BRIEF §2).
//!
//! Checked: with the generation check (both designs) the session never
//! becomes visible in generation 2, whichever way the race goes; a store
//! that lands in the retired generation is still freed (no leak). The
//! faithful seed (no check) admits the outcome where generation 2 serves the
//! generation-1 session; the lock-free design never does.
//! Outcome: (generation the storer loaded, stored?, what generation 2's slot
//! holds at the end).

use crate::common::{
    Ctx, Env, Sess, assert_lock_free_within_rwlock, explore, join, lock_free, rwlock, seed,
};
use loom::sync::Arc;
use std::collections::BTreeSet;
use tls_slots::{SessionTable, SlotAccess, StoreOutcome, WorkerId};

const W0: WorkerId = WorkerId::new(0);

type Outcome = (u64, bool, Option<u64>);

fn scenario<T: SessionTable<Ctx, Sess>>(env: &Env<T>) -> Outcome {
    let storer = {
        let table = Arc::clone(&env.table);
        loom::thread::spawn(move || {
            let now = table.load();
            let generation = now.generation().get();
            let outcome = now.store(W0, Sess::new(generation * 10 + 1)).unwrap();
            (generation, outcome == StoreOutcome::Stored)
        })
    };
    env.table.commit(2);
    let (loaded, stored) = join(storer);
    let now = env.table.load();
    let fin = now.get(W0).unwrap().map(|s| s.value());
    (loaded, stored, fin)
}

/// No outcome in which generation 2 serves a session of generation 1 (a
/// storer that loaded generation 2 legitimately leaves its session there).
fn never_stale(outcomes: &BTreeSet<Outcome>) {
    for &(_, _, fin) in outcomes {
        let generation = fin.map(|value| value / 10);
        assert_ne!(generation, Some(1), "generation 2 serves a stale session");
    }
}

#[test]
#[cfg_attr(tls_slots_bug = "commit_carries_sessions", should_panic)]
fn store_vs_commit() {
    let lf = explore("store_vs_commit", "lock-free", || lock_free(1), scenario);
    never_stale(&lf);
    let rw = explore("store_vs_commit", "rwlock", || rwlock(1), scenario);
    never_stale(&rw);
    assert_lock_free_within_rwlock("store_vs_commit", &rw, &lf);
}

/// The named difference: the seed (no generation check) resumes the
/// generation-1 session in generation 2 in some interleaving; the lock-free
/// design cannot.
#[test]
fn seed_resumes_stale_session_after_commit_lock_free_never_does() {
    let seed = explore("store_vs_commit", "seed", || seed(1), scenario);
    let lf = explore("store_vs_commit", "lock-free", || lock_free(1), scenario);
    println!("outcomes store_vs_commit seed      = {seed:?}");
    println!("outcomes store_vs_commit lock-free = {lf:?}");
    let stale = (1, true, Some(11));
    assert!(
        seed.contains(&stale),
        "the seed's stale window was not reproduced"
    );
    assert!(!lf.contains(&stale));
    never_stale(&lf);
}
