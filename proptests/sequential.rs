//! Random operation sequences over several workers, applied to both designs
//! and to a plain sequential reference model: every result and the counters
//! must match.

use crate::reference::Reference;
use proptest::prelude::*;
use tls_slots::{
    Borrowed, GenerationId, LockFreeTable, Reuse, RwLockTable, SessionTable, SlotAccess, SlotError,
    StoreOutcome, WorkerId,
};

const WORKERS: usize = 3;

#[derive(Clone, Debug)]
enum Op {
    Store(usize, u32),
    Take(usize),
    Get(usize),
    Borrow(usize, Reuse),
    Clear(usize),
    Commit,
    /// Keep a handle on the current generation for later `Stale*` ops.
    Keep,
    StaleStore(usize, u32),
    StaleTake(usize),
}

fn op() -> impl Strategy<Value = Op> {
    // One index past the end exercises the out-of-range error.
    let w = 0..=WORKERS;
    let reuse = prop_oneof![Just(Reuse::Take), Just(Reuse::Copy)];
    prop_oneof![
        4 => (w.clone(), any::<u32>()).prop_map(|(w, v)| Op::Store(w, v)),
        3 => w.clone().prop_map(Op::Take),
        3 => w.clone().prop_map(Op::Get),
        2 => (w.clone(), reuse).prop_map(|(w, r)| Op::Borrow(w, r)),
        1 => w.clone().prop_map(Op::Clear),
        1 => Just(Op::Commit),
        1 => Just(Op::Keep),
        1 => (w.clone(), any::<u32>()).prop_map(|(w, v)| Op::StaleStore(w, v)),
        1 => w.prop_map(Op::StaleTake),
    ]
}

/// What one operation returned, in a form both designs and the model share.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Stored(Result<StoreOutcome, SlotError>),
    Read(Result<Option<u32>, SlotError>),
    Borrowed(Result<Option<(usize, u32)>, SlotError>),
    Cleared(Result<bool, SlotError>),
    Committed(GenerationId),
    Kept,
}

/// The reference model, plus the handle a test kept on an older generation.
struct Model {
    now: Reference<WORKERS>,
    kept: u64,
}

impl Model {
    fn check(w: usize) -> Result<usize, SlotError> {
        if w < WORKERS {
            Ok(w)
        } else {
            Err(SlotError::WorkerOutOfRange {
                worker: WorkerId::new(w),
                workers: WORKERS,
            })
        }
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        let now = &mut self.now;
        match *op {
            Op::Store(w, v) => Outcome::Stored(Self::check(w).map(|w| {
                now.store(w, v);
                StoreOutcome::Stored
            })),
            Op::Take(w) => Outcome::Read(Self::check(w).map(|w| now.take(w))),
            Op::Get(w) => Outcome::Read(Self::check(w).map(|w| now.get(w))),
            Op::Borrow(w, reuse) => Outcome::Borrowed(Self::check(w).map(|w| now.borrow(w, reuse))),
            Op::Clear(w) => Outcome::Cleared(Self::check(w).map(|w| now.clear(w))),
            Op::Commit => Outcome::Committed(GenerationId::new(now.commit())),
            Op::Keep => {
                self.kept = now.generation;
                Outcome::Kept
            }
            Op::StaleStore(w, v) => {
                if self.kept == self.now.generation {
                    self.apply(&Op::Store(w, v))
                } else {
                    Outcome::Stored(Self::check(w).map(|_| StoreOutcome::StaleGeneration))
                }
            }
            Op::StaleTake(w) => {
                if self.kept == self.now.generation {
                    self.apply(&Op::Take(w))
                } else {
                    Outcome::Read(Self::check(w).map(|_| None))
                }
            }
        }
    }
}

fn run_table<T: SessionTable<u64, u32>>(ops: &[Op]) -> (Vec<Outcome>, tls_slots::Counters) {
    let table = T::new(WORKERS, 1);
    let mut kept = table.slots();
    let outcomes = ops
        .iter()
        .map(|op| {
            let now = table.load();
            match *op {
                Op::Store(w, v) => Outcome::Stored(now.store(WorkerId::new(w), v)),
                Op::Take(w) => Outcome::Read(now.take(WorkerId::new(w))),
                Op::Get(w) => Outcome::Read(now.get(WorkerId::new(w))),
                Op::Borrow(w, reuse) => Outcome::Borrowed(
                    now.borrow(WorkerId::new(w), reuse)
                        .map(|b| b.map(|Borrowed { from, session }| (from.index(), session))),
                ),
                Op::Clear(w) => Outcome::Cleared(now.clear(WorkerId::new(w))),
                Op::Commit => {
                    drop(now);
                    Outcome::Committed(table.commit(table.generation().get() + 1))
                }
                Op::Keep => {
                    kept = table.slots();
                    Outcome::Kept
                }
                Op::StaleStore(w, v) => Outcome::Stored(kept.store(WorkerId::new(w), v)),
                Op::StaleTake(w) => Outcome::Read(kept.take(WorkerId::new(w))),
            }
        })
        .collect();
    (outcomes, table.counters())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000)
    ))]

    #[test]
    fn both_designs_match_the_reference_model(ops in proptest::collection::vec(op(), 0..64)) {
        let mut model = Model { now: Reference::new(), kept: 1 };
        let expected: Vec<Outcome> = ops.iter().map(|op| model.apply(op)).collect();
        let (rwlock, rwlock_counters) = run_table::<RwLockTable<u64, u32>>(&ops);
        let (lock_free, lock_free_counters) = run_table::<LockFreeTable<u64, u32>>(&ops);
        prop_assert_eq!(&rwlock, &expected);
        prop_assert_eq!(&lock_free, &expected);
        let without_reclaimed = |c: tls_slots::Counters| tls_slots::Counters { reclaimed: 0, ..c };
        prop_assert_eq!(without_reclaimed(rwlock_counters), without_reclaimed(lock_free_counters));
    }
}
