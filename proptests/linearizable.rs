//! Concurrent histories: real threads run random operations on each design;
//! the recorded history is checked for linearizability against a sequential
//! model with a small Wing–Gong search. A failing case shrinks to a minimal
//! set of per-thread operation lists.
//!
//! Every operation is "load the current generation, then act on it", as a
//! connection does; the generation it loaded is part of its result. The
//! model takes it into account: an operation whose generation is no longer
//! current at its linearization point is stale (a store is discarded, reads
//! find nothing), exactly as both designs promise.

use crate::reference::Reference;
use proptest::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use tls_slots::{
    LockFreeTable, Reuse, RwLockTable, SessionTable, SlotAccess, StoreOutcome, WorkerId,
};

const WORKERS: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Store(usize, u32),
    Take(usize),
    Get(usize),
    Borrow(usize, Reuse),
    Clear(usize),
    Commit,
}

/// What an operation returned; `generation` is the one it loaded (for a
/// commit, the one it published).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    Stored(bool),
    Read(Option<u32>),
    Borrowed(Option<(usize, u32)>),
    Cleared(bool),
    Committed,
}

#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// Which thread ran it (shown in a failing history).
    #[allow(dead_code)]
    pub thread: usize,
    pub op: Op,
    pub generation: u64,
    pub ret: Ret,
    /// Global sequence numbers taken just before the call and just after it.
    pub invoked: u64,
    pub returned: u64,
}

/// The sequential specification, stepping through recorded events.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Model(Reference<WORKERS>);

impl Model {
    fn new() -> Self {
        Self(Reference::new())
    }

    /// Applies `e` if its recorded result is what the model returns.
    fn step(&self, e: &Event) -> Option<Model> {
        let mut next = self.clone();
        let current = e.generation == self.0.generation;
        let ret = match e.op {
            Op::Commit => {
                if e.generation != next.0.commit() {
                    return None;
                }
                Ret::Committed
            }
            _ if !current => match e.op {
                Op::Store(..) => Ret::Stored(false),
                Op::Take(_) | Op::Get(_) => Ret::Read(None),
                Op::Borrow(..) => Ret::Borrowed(None),
                _ => Ret::Cleared(false),
            },
            Op::Store(w, v) => {
                next.0.store(w, v);
                Ret::Stored(true)
            }
            Op::Take(w) => Ret::Read(next.0.take(w)),
            Op::Get(w) => Ret::Read(next.0.get(w)),
            Op::Borrow(w, reuse) => Ret::Borrowed(next.0.borrow(w, reuse)),
            Op::Clear(w) => Ret::Cleared(next.0.clear(w)),
        };
        (ret == e.ret).then_some(next)
    }
}

/// Wing–Gong: try every operation that may come first (no pending operation
/// returned before it was invoked), recurse on the rest.
pub fn linearizable(history: &[Event]) -> bool {
    fn search(model: &Model, pending: &mut Vec<Event>) -> bool {
        if pending.is_empty() {
            return true;
        }
        let first_return = pending.iter().map(|e| e.returned).min().unwrap();
        for i in 0..pending.len() {
            if pending[i].invoked > first_return {
                continue;
            }
            if let Some(next) = model.step(&pending[i]) {
                let e = pending.swap_remove(i);
                let ok = search(&next, pending);
                pending.push(e);
                let last = pending.len() - 1;
                pending.swap(i, last);
                if ok {
                    return true;
                }
            }
        }
        false
    }
    search(&Model::new(), &mut history.to_vec())
}

fn run_op<T: SessionTable<u64, u32>>(table: &T, op: Op) -> (u64, Ret) {
    if op == Op::Commit {
        let id = table.commit_with(|slots| slots.generation().get());
        return (id.get(), Ret::Committed);
    }
    let now = table.load();
    let generation = now.generation().get();
    let ret = match op {
        Op::Store(w, v) => Ret::Stored(now.store(WorkerId::new(w), v) == Ok(StoreOutcome::Stored)),
        Op::Take(w) => Ret::Read(now.take(WorkerId::new(w)).unwrap()),
        Op::Get(w) => Ret::Read(now.get(WorkerId::new(w)).unwrap()),
        Op::Borrow(w, r) => Ret::Borrowed(
            now.borrow(WorkerId::new(w), r)
                .unwrap()
                .map(|b| (b.from.index(), b.session)),
        ),
        Op::Clear(w) => Ret::Cleared(now.clear(WorkerId::new(w)).unwrap()),
        Op::Commit => unreachable!(),
    };
    (generation, ret)
}

/// Runs one list of operations per thread, all threads released together.
pub fn record<T: SessionTable<u64, u32>>(threads: &[Vec<Op>]) -> Vec<Event> {
    let table = T::new(WORKERS, 1);
    let clock = AtomicU64::new(0);
    let start = std::sync::Barrier::new(threads.len());
    let history = std::sync::Mutex::new(Vec::new());
    thread::scope(|scope| {
        for (thread, ops) in threads.iter().enumerate() {
            let (table, clock, start, history) = (&table, &clock, &start, &history);
            scope.spawn(move || {
                start.wait();
                for &op in ops {
                    // SeqCst: the sequence numbers order invocations and
                    // responses across threads in real time.
                    let invoked = clock.fetch_add(1, Ordering::SeqCst);
                    let (generation, ret) = run_op(table, op);
                    let returned = clock.fetch_add(1, Ordering::SeqCst);
                    let event = ev(thread, op, generation, ret, invoked, returned);
                    history.lock().unwrap().push(event);
                }
            });
        }
    });
    history.into_inner().unwrap()
}

fn op() -> impl Strategy<Value = Op> {
    let w = 0..WORKERS;
    let reuse = prop_oneof![Just(Reuse::Take), Just(Reuse::Copy)];
    prop_oneof![
        4 => (w.clone(), 0u32..100).prop_map(|(w, v)| Op::Store(w, v)),
        2 => w.clone().prop_map(Op::Take),
        2 => w.clone().prop_map(Op::Get),
        2 => (w.clone(), reuse).prop_map(|(w, r)| Op::Borrow(w, r)),
        1 => w.prop_map(Op::Clear),
        2 => Just(Op::Commit),
    ]
}

fn threads() -> impl Strategy<Value = Vec<Vec<Op>>> {
    proptest::collection::vec(proptest::collection::vec(op(), 1..6), 2..=3)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_LIN_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(500)
}

/// Each generated case is run this many times (schedules differ run to run).
const RUNS_PER_CASE: usize = 4;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn rwlock_histories_are_linearizable(threads in threads()) {
        for _ in 0..RUNS_PER_CASE {
            let history = record::<RwLockTable<u64, u32>>(&threads);
            prop_assert!(linearizable(&history), "not linearizable: {history:#?}");
        }
    }

    #[test]
    fn lock_free_histories_are_linearizable(threads in threads()) {
        for _ in 0..RUNS_PER_CASE {
            let history = record::<LockFreeTable<u64, u32>>(&threads);
            prop_assert!(linearizable(&history), "not linearizable: {history:#?}");
        }
    }
}

fn ev(thread: usize, op: Op, generation: u64, ret: Ret, invoked: u64, returned: u64) -> Event {
    Event {
        thread,
        op,
        generation,
        ret,
        invoked,
        returned,
    }
}

/// The checker itself: a store that returned before a get started must be
/// seen by it.
#[test]
fn checker_rejects_a_read_that_misses_a_completed_store() {
    let history = [
        ev(0, Op::Store(0, 7), 1, Ret::Stored(true), 0, 1),
        ev(1, Op::Get(0), 1, Ret::Read(None), 2, 3),
    ];
    assert!(!linearizable(&history));
}

/// ...but may miss it when the two overlap.
#[test]
fn checker_accepts_the_same_read_when_it_overlaps_the_store() {
    let history = [
        ev(0, Op::Store(0, 7), 1, Ret::Stored(true), 0, 3),
        ev(1, Op::Get(0), 1, Ret::Read(None), 1, 2),
    ];
    assert!(linearizable(&history));
}

/// A single-use session taken twice is rejected; a stale session resumed
/// after a commit (the seed's window) is rejected.
#[test]
fn checker_rejects_double_take_and_stale_reuse() {
    let double = [
        ev(0, Op::Store(0, 7), 1, Ret::Stored(true), 0, 1),
        ev(0, Op::Take(0), 1, Ret::Read(Some(7)), 2, 5),
        ev(
            1,
            Op::Borrow(1, Reuse::Take),
            1,
            Ret::Borrowed(Some((0, 7))),
            3,
            4,
        ),
    ];
    assert!(!linearizable(&double));
    let stale = [
        ev(0, Op::Store(0, 7), 1, Ret::Stored(true), 0, 1),
        ev(1, Op::Commit, 2, Ret::Committed, 2, 3),
        ev(0, Op::Get(0), 2, Ret::Read(Some(7)), 4, 5),
    ];
    assert!(!linearizable(&stale));
}

/// Shrinking: a deliberately wrong "implementation" (a get that forgets
/// every store) fails, and proptest shrinks the failure to a minimal
/// history: one store, then one read that should have found it.
#[test]
fn shrinking_finds_the_minimal_failing_history() {
    use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
    // A fixed seed: which minimal history is found must not depend on luck.
    let mut runner = TestRunner::new_with_rng(
        Config {
            failure_persistence: None,
            ..Config::with_cases(256)
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let result = runner.run(&proptest::collection::vec(op(), 0..12), |ops| {
        let mut clock = 0;
        let mut history = Vec::new();
        for op in ops {
            let ret = match op {
                Op::Store(..) => Ret::Stored(true),
                Op::Get(_) | Op::Take(_) => Ret::Read(None),
                Op::Borrow(..) => Ret::Borrowed(None),
                Op::Clear(_) => Ret::Cleared(false),
                Op::Commit => Ret::Committed,
            };
            let commits = history
                .iter()
                .filter(|e: &&Event| e.op == Op::Commit)
                .count() as u64;
            let generation = 1 + commits + u64::from(op == Op::Commit);
            history.push(ev(0, op, generation, ret, clock, clock + 1));
            clock += 2;
        }
        prop_assert!(linearizable(&history));
        Ok(())
    });
    let Err(TestError::Fail(_, minimal)) = result else {
        panic!("the broken implementation was not caught: {result:?}");
    };
    println!("minimal failing history: {minimal:?}");
    assert_eq!(minimal.len(), 2, "{minimal:?}");
    assert!(matches!(minimal[0], Op::Store(..)));
    assert!(matches!(
        minimal[1],
        Op::Get(_) | Op::Take(_) | Op::Borrow(..)
    ));
}
