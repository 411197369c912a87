//! What every model shares: a session type loom can see into, a table
//! environment that owns its epoch collector, and the explorer that runs a
//! scenario over every interleaving and collects its outcomes.

use loom::alloc::Track;
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tls_slots::epoch::Collector;
use tls_slots::{LockFreeTable, RwLockTable};

/// What `Drop` writes into a session: a read that sees it read freed memory.
const POISON: u64 = u64::MAX;

/// A session whose value lives in a loom `UnsafeCell`: written when the
/// session is made (so a reader without a happens-before edge to the writer
/// is a data race loom reports) and written again in `Drop` (so a read that
/// races the free is reported too). The `Track` makes a leaked session fail
/// the execution.
///
/// `repr(C)` with padding first: the allocator reuses the first words of a
/// freed block for its free list, and loom's cell state must survive there
/// long enough for loom to report the race instead of reading garbage.
#[repr(C)]
pub struct Sess {
    _pad: [u64; 4],
    value: UnsafeCell<u64>,
    _track: Track<()>,
}

// SAFETY: every access to `value` goes through loom's checked `with` /
// `with_mut`, which fail the execution on any unsynchronised access; that
// checking is the point of this type.
unsafe impl Sync for Sess {}

impl Sess {
    /// A session with tag `value` (by convention `generation * 10 + n`).
    pub fn new(value: u64) -> Self {
        let session = Self {
            _pad: [0; 4],
            value: UnsafeCell::new(0),
            _track: Track::new(()),
        };
        // SAFETY: the session is not shared yet.
        session.value.with_mut(|p| unsafe { *p = value });
        session
    }

    /// The tag; fails the execution if the session was freed or is read
    /// without a happens-before edge to its writer.
    pub fn value(&self) -> u64 {
        // SAFETY: loom checks this access.
        let value = self.value.with(|p| unsafe { *p });
        assert_ne!(value, POISON, "read a session after its Drop ran");
        value
    }
}

impl Clone for Sess {
    fn clone(&self) -> Self {
        Sess::new(self.value())
    }
}

impl Drop for Sess {
    fn drop(&mut self) {
        // SAFETY: loom checks this access (a free racing a reader's clone).
        self.value.with_mut(|p| unsafe { *p = POISON });
    }
}

impl fmt::Debug for Sess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sess({})", self.value())
    }
}

/// The context: the generation number it was committed for.
pub type Ctx = u64;

/// A table under test and, for the lock-free design, the epoch collector its
/// readers pin, so the model can force reclamation and own every deferred
/// free.
///
/// Fields drop in declaration order: the table first, then the collector,
/// which runs every deferred free left, so a session nobody freed shows up
/// as a leak at the end of the execution.
pub struct Env<T> {
    pub table: Arc<T>,
    collector: Option<Collector>,
    reclaim_table: fn(&T),
}

impl<T> Env<T> {
    /// Forces the epoch forward `flushes` times and runs what it allows: each fresh
    /// participant's `pin().flush()` seals its bag, tries to advance the
    /// global epoch and collects expired garbage. Then the table's own
    /// `reclaim()` frees the batches that came back to it.
    pub fn reclaim(&self, flushes: usize) {
        if let Some(collector) = &self.collector {
            for _ in 0..flushes {
                collector.register().pin().flush();
            }
        }
        (self.reclaim_table)(&self.table);
    }
}

/// The rwlock design with the generation check.
pub fn rwlock(workers: usize) -> Env<RwLockTable<Ctx, Sess>> {
    use tls_slots::SessionTable;
    Env {
        table: Arc::new(RwLockTable::new(workers, 1)),
        collector: None,
        reclaim_table: |_| {},
    }
}

/// The seed exactly: no generation check (HAProxy's stale-identity window).
pub fn seed(workers: usize) -> Env<RwLockTable<Ctx, Sess>> {
    Env {
        table: Arc::new(RwLockTable::faithful_seed(workers, 1)),
        collector: None,
        reclaim_table: |_| {},
    }
}

/// The lock-free design, on a collector of its own.
pub fn lock_free(workers: usize) -> Env<LockFreeTable<Ctx, Sess>> {
    let collector = Collector::new();
    Env {
        table: Arc::new(LockFreeTable::with_collector(workers, collector.clone(), 1)),
        collector: Some(collector),
        reclaim_table: |table| {
            table.reclaim();
        },
    }
}

/// Runs `scenario` on a fresh environment from `make` in every interleaving
/// loom explores (bounded by `LOOM_MAX_PREEMPTIONS`), and returns the set of
/// outcomes seen. Prints the number of executions and the wall time.
pub fn explore<T, O>(
    model: &str,
    design: &str,
    make: fn() -> Env<T>,
    scenario: fn(&Env<T>) -> O,
) -> BTreeSet<O>
where
    T: Send + Sync + 'static,
    O: Ord + fmt::Debug + Send + 'static,
{
    let outcomes = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let executions = std::sync::Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    {
        let outcomes = std::sync::Arc::clone(&outcomes);
        let executions = std::sync::Arc::clone(&executions);
        let mut builder = loom::model::Builder::new();
        // Every `pin` on a table's own collector registers a participant, so
        // one execution takes thousands of atomic steps: past the default
        // 1,000-branch guard, which is there to catch spin loops.
        builder.max_branches = 100_000;
        builder.check(move || {
            crate::no_reuse::release();
            executions.fetch_add(1, Ordering::Relaxed);
            // Dropped by hand on success only: if the scenario panics (a
            // caught bug), unwinding must not run the collector's deferred
            // frees inside loom, which would panic again and abort.
            let env = std::mem::ManuallyDrop::new(make());
            let outcome = scenario(&env);
            // Threads are joined: let every deferred batch reach the table
            // and be freed before the table goes (loom counts a message left
            // in a channel as a leak; std would free it with the channel).
            env.reclaim(3);
            drop(std::mem::ManuallyDrop::into_inner(env));
            outcomes.lock().unwrap().insert(outcome);
        });
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    println!(
        "loom model {model:<28} {design:<9} executions={:<7} wall={:.1}s outcomes={}",
        executions.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
        outcomes.len()
    );
    outcomes
}

/// Prints both outcome sets and asserts that every outcome of the lock-free
/// design is one the rwlock design admits too.
pub fn assert_lock_free_within_rwlock<O: Ord + fmt::Debug>(
    scenario: &str,
    rwlock: &BTreeSet<O>,
    lock_free: &BTreeSet<O>,
) {
    println!("outcomes {scenario} rwlock    = {rwlock:?}");
    println!("outcomes {scenario} lock-free = {lock_free:?}");
    let extra: Vec<_> = lock_free.difference(rwlock).collect();
    assert!(
        extra.is_empty(),
        "{scenario}: lock-free outcomes the rwlock design never produces: {extra:?}"
    );
}

/// Joins a loom thread, passing its panic on.
pub fn join<R>(handle: loom::thread::JoinHandle<R>) -> R {
    handle.join().expect("model thread panicked")
}
