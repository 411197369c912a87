//! The mission's design: the context and its slots live in one
//! [`Generation`] behind `ArcSwap`; slots are `crossbeam_epoch::Atomic`s.
//!
//! | operation | [`RwLockTable`](crate::RwLockTable) | [`LockFreeTable`] |
//! |---|---|---|
//! | current context | read-lock, clone the context, unlock | `ArcSwap::load` (no lock, no shared write) |
//! | store / take / get / clear | read-lock + slot mutex | epoch `pin`, one atomic op on the worker's own slot |
//! | commit | write-lock: waits for readers, frees every session inline | build the next generation, `compare_and_swap` it in, unlink the old slots; frees deferred |
//! | a store racing a commit | serialized by the lock | lands in the generation it was loaded from, which is retired: never offered again |

mod generation;
mod reader;
mod reclaim;
mod slot;
mod slots;

use crate::core::{CounterBank, Counters, GenerationId, SessionTable};
use crate::sync::{Arc, ArcSwap, Mutex, epoch, mpsc};
use generation::{Generation, SlotArray, TableShared};
use reclaim::{Domain, RetiredBatch};
use slot::Held;

pub use reader::{LockFreeCurrent, LockFreeReader};
pub use slots::{LockFreeSlots, LockFreeSnapshot};

/// The lock-free design: readers never block and never wait for a commit; a
/// commit never waits for readers.
pub struct LockFreeTable<C, S> {
    /// The published generation. arc-swap's operations are SeqCst: every
    /// `load` sees the generation of the latest `compare_and_swap` before it.
    current: ArcSwap<Generation<C, S>>,
    shared: Arc<TableShared>,
    /// Where deferred batches of flushed sessions come back to be freed by a
    /// committer rather than by whichever reader happens to run the epoch's
    /// deferred functions.
    retired_tx: mpsc::Sender<RetiredBatch<Held<S>>>,
    /// Only committers (and [`LockFreeTable::reclaim`]) take this, with
    /// `try_lock`: readers never touch it.
    retired_rx: Mutex<mpsc::Receiver<RetiredBatch<Held<S>>>>,
}

impl<C, S> LockFreeTable<C, S>
where
    C: Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    fn with_domain(
        workers: usize,
        domain: Domain,
        context: impl FnOnce(&LockFreeSlots<S>) -> C,
    ) -> Self {
        let shared = Arc::new(TableShared {
            counters: Arc::new(CounterBank::new(workers)),
            domain,
            workers,
        });
        let slots = Arc::new(SlotArray::new(GenerationId::FIRST, Arc::clone(&shared)));
        let context = context(&LockFreeSlots::new(Arc::clone(&slots)));
        let (retired_tx, retired_rx) = mpsc::channel();
        Self {
            current: ArcSwap::new(Arc::new(Generation { context, slots })),
            shared,
            retired_tx,
            retired_rx: Mutex::new(retired_rx),
        }
    }

    /// A table whose readers pin `collector` instead of crossbeam-epoch's
    /// global one. Every operation then registers with the collector, which is
    /// slow: this is for loom models and Miri runs, which need to own every
    /// deferred free and see it run when the collector is dropped.
    pub fn with_collector(workers: usize, collector: epoch::Collector, context: C) -> Self {
        Self::with_domain(workers, Domain::Own(collector), |_| context)
    }

    /// Frees the batches of flushed sessions whose grace period has passed and
    /// returns how many sessions that freed. Every commit calls this; a proxy
    /// that commits rarely may call it from housekeeping. Never blocks: if
    /// another thread is reclaiming, returns 0.
    pub fn reclaim(&self) -> u64 {
        let Ok(retired) = self.retired_rx.try_lock() else {
            return 0;
        };
        let mut freed = 0;
        while let Ok(batch) = retired.try_recv() {
            freed += batch.len() as u64;
            drop(batch);
        }
        freed
    }

    /// A per-thread read handle: [`LockFreeReader::load`] returns the current
    /// generation with one plain pointer load when no commit happened since
    /// its last call (see [`LockFreeReader`]). Keep one per worker; readers
    /// that go idle should be dropped, since each keeps the last generation it
    /// saw alive.
    pub fn reader(&self) -> LockFreeReader<'_, C, S> {
        LockFreeReader::new(&self.current)
    }

    /// Retires `replaced`: frees the sessions nobody is copying and hands
    /// the others to the epoch.
    fn retire(&self, replaced: &Generation<C, S>) {
        let guard = self.shared.domain.pin();
        let (freed, deferred) = replaced.slots.retire(&guard);
        let counters = &self.shared.counters;
        counters.count_commit(freed + deferred.len() as u64);
        counters.count_reclaimed(freed);
        if deferred.is_empty() {
            return;
        }
        // SAFETY: `retire` unlinked these pointers from their slots (only this
        // commit retires this generation), and the batch goes straight into
        // `Guard::defer`, which runs it only after every guard pinned now has
        // been dropped.
        let batch = unsafe { RetiredBatch::new(deferred, Arc::clone(counters)) };
        let to_committer = self.retired_tx.clone();
        guard.defer(move || {
            // The reader that runs this only moves the batch; if the table is
            // gone the send fails and the batch is freed right here.
            let _ = to_committer.send(batch);
        });
        // Push our deferred functions to the global queue now rather than when
        // this thread's bag fills up, so the next commit can free them.
        guard.flush();
    }
}

impl<C, S> SessionTable<C, S> for LockFreeTable<C, S>
where
    C: Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    type Slots = LockFreeSlots<S>;
    type Snapshot<'t>
        = LockFreeSnapshot<C, S>
    where
        Self: 't;

    const DESIGN: &'static str = "lock-free";

    fn build(workers: usize, context: impl FnOnce(&Self::Slots) -> C) -> Self {
        Self::with_domain(workers, Domain::Global, context)
    }

    fn load(&self) -> Self::Snapshot<'_> {
        LockFreeSnapshot::new(self.current.load())
    }

    fn slots(&self) -> Self::Slots {
        LockFreeSlots::new(Arc::clone(&self.current.load().slots))
    }

    fn generation(&self) -> GenerationId {
        self.current.load().slots.id
    }

    fn commit(&self, context: C) -> GenerationId {
        let mut context = Some(context);
        self.commit_with(|_| {
            context
                .take()
                .expect("commit retries only when another commit won, which needs a fresh context")
        })
    }

    fn commit_with(&self, mut context: impl FnMut(&Self::Slots) -> C) -> GenerationId {
        loop {
            let current = self.current.load_full();
            let id = current.slots.id.next();
            let slots = Arc::new(SlotArray::new(id, Arc::clone(&self.shared)));
            let next = Arc::new(Generation {
                context: context(&LockFreeSlots::new(Arc::clone(&slots))),
                slots,
            });
            // SeqCst (inside arc-swap): the publication point. Every `load`
            // after it returns `next`; pairs with the loads in `load()`,
            // `slots()` and `generation()`.
            #[cfg(tls_slots_bug = "commit_carries_sessions")]
            let carried_into = Arc::clone(&next.slots);
            let previous = self.current.compare_and_swap(&current, next);
            if Arc::ptr_eq(&previous, &current) {
                drop(previous);
                // INJECTED BUG commit_carries_sessions: generation N's sessions
                // are offered in N+1 (caught by loom and proptest).
                #[cfg(tls_slots_bug = "commit_carries_sessions")]
                carried_into.carry_over_from(&current.slots);
                self.retire(&current);
                self.reclaim();
                return id;
            }
            // Another commit won; build on top of its generation.
        }
    }

    fn workers(&self) -> usize {
        self.shared.workers
    }

    fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }
}
