//! Contenders 2 and 3: the seed's shape with other locks, bench-only.
//!
//! [`LockedTable`] is [`tls_slots::RwLockTable`] with the locks as a type
//! parameter: a table-wide rwlock read-locked by every slot operation and
//! write-locked by `commit` (which frees every session inline), one lock per
//! slot, the same generation check and the same per-worker counters. Only the
//! locks differ, so the comparison measures the locks.
//!
//! - [`ParkingLot`]: `parking_lot::RwLock` table-wide, `parking_lot::Mutex`
//!   per slot (contender 2: the seed with parking_lot).
//! - [`HaProxy3`]: HAProxy 2.9–3.x's shape: the table-wide `std` rwlock is
//!   read-locked, and each slot has its own rwlock (`reused_sess[tid].sess_lock`),
//!   read-locked to copy a session and write-locked to store, take or clear.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;
use tls_slots::{
    Borrowed, Counters, GenerationId, Reuse, SessionTable, SlotAccess, SlotError, Snapshot,
    StoreOutcome, WorkerId,
};

/// The locks of one contender.
pub trait LockKind: Send + Sync + 'static {
    /// The design's name in reports.
    const NAME: &'static str;
    /// The table-wide lock.
    type Table<T: Send + Sync>: Send + Sync;
    /// The per-slot lock.
    type Slot<T: Send + Sync>: Send + Sync;

    fn table<T: Send + Sync>(value: T) -> Self::Table<T>;
    fn read<T: Send + Sync>(lock: &Self::Table<T>) -> impl Deref<Target = T> + '_;
    fn write<T: Send + Sync>(lock: &Self::Table<T>) -> impl DerefMut<Target = T> + '_;

    fn slot<T: Send + Sync>(value: T) -> Self::Slot<T>;
    /// For copying a session out (a shared lock where the kind has one).
    fn slot_read<T: Send + Sync>(lock: &Self::Slot<T>) -> impl Deref<Target = T> + '_;
    /// For store, take and clear.
    fn slot_write<T: Send + Sync>(lock: &Self::Slot<T>) -> impl DerefMut<Target = T> + '_;
}

/// Contender 2: the seed with `parking_lot`'s locks.
pub struct ParkingLot;

impl LockKind for ParkingLot {
    const NAME: &'static str = "rwlock-parking_lot";
    type Table<T: Send + Sync> = parking_lot::RwLock<T>;
    type Slot<T: Send + Sync> = parking_lot::Mutex<T>;

    fn table<T: Send + Sync>(value: T) -> Self::Table<T> {
        parking_lot::RwLock::new(value)
    }
    fn read<T: Send + Sync>(lock: &Self::Table<T>) -> impl Deref<Target = T> + '_ {
        lock.read()
    }
    fn write<T: Send + Sync>(lock: &Self::Table<T>) -> impl DerefMut<Target = T> + '_ {
        lock.write()
    }
    fn slot<T: Send + Sync>(value: T) -> Self::Slot<T> {
        parking_lot::Mutex::new(value)
    }
    fn slot_read<T: Send + Sync>(lock: &Self::Slot<T>) -> impl Deref<Target = T> + '_ {
        lock.lock()
    }
    fn slot_write<T: Send + Sync>(lock: &Self::Slot<T>) -> impl DerefMut<Target = T> + '_ {
        lock.lock()
    }
}

/// Contender 3: HAProxy 3.x: table rwlock + an rwlock per slot.
pub struct HaProxy3;

impl LockKind for HaProxy3 {
    const NAME: &'static str = "haproxy3";
    type Table<T: Send + Sync> = std::sync::RwLock<T>;
    type Slot<T: Send + Sync> = std::sync::RwLock<T>;

    fn table<T: Send + Sync>(value: T) -> Self::Table<T> {
        std::sync::RwLock::new(value)
    }
    fn read<T: Send + Sync>(lock: &Self::Table<T>) -> impl Deref<Target = T> + '_ {
        lock.read().unwrap_or_else(PoisonError::into_inner)
    }
    fn write<T: Send + Sync>(lock: &Self::Table<T>) -> impl DerefMut<Target = T> + '_ {
        lock.write().unwrap_or_else(PoisonError::into_inner)
    }
    fn slot<T: Send + Sync>(value: T) -> Self::Slot<T> {
        std::sync::RwLock::new(value)
    }
    fn slot_read<T: Send + Sync>(lock: &Self::Slot<T>) -> impl Deref<Target = T> + '_ {
        lock.read().unwrap_or_else(PoisonError::into_inner)
    }
    fn slot_write<T: Send + Sync>(lock: &Self::Slot<T>) -> impl DerefMut<Target = T> + '_ {
        lock.write().unwrap_or_else(PoisonError::into_inner)
    }
}

const NO_WORKER: usize = usize::MAX;

/// One worker's slot behind its own lock, on its own cache line.
type PaddedSlot<L, S> = CachePadded<<L as LockKind>::Slot<Option<S>>>;

/// Per-worker counters on their own lines, as in the crate.
#[derive(Default)]
struct WorkerCounts {
    stores: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    borrows: AtomicU64,
    clears: AtomicU64,
    stale: AtomicU64,
}

fn bump(cell: &AtomicU64) {
    // Relaxed: a statistic, as in the crate's CounterBank.
    cell.fetch_add(1, Ordering::Relaxed);
}

struct State<L: LockKind, C: Send + Sync, S: Send + Sync> {
    /// `None` only while the first context is being built.
    context: Option<C>,
    generation: GenerationId,
    last_stored: AtomicUsize,
    slots: Box<[PaddedSlot<L, S>]>,
}

struct Shared<L: LockKind, C: Send + Sync, S: Send + Sync> {
    state: L::Table<State<L, C, S>>,
    workers: usize,
    counts: Box<[CachePadded<WorkerCounts>]>,
    commits: AtomicU64,
    flushed: AtomicU64,
}

/// The seed's design with the locks of `L`.
pub struct LockedTable<L: LockKind, C: Send + Sync, S: Send + Sync> {
    shared: Arc<Shared<L, C, S>>,
}

/// A keepable handle on one generation.
pub struct LockedSlots<L: LockKind, C: Send + Sync, S: Send + Sync> {
    shared: Arc<Shared<L, C, S>>,
    generation: GenerationId,
}

impl<L: LockKind, C: Send + Sync, S: Send + Sync> Clone for LockedSlots<L, C, S> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            generation: self.generation,
        }
    }
}

/// What `load` returns: a clone of the context taken under the read lock.
pub struct LockedSnapshot<'t, L: LockKind, C: Send + Sync, S: Send + Sync> {
    shared: &'t Shared<L, C, S>,
    context: C,
    generation: GenerationId,
}

fn check(worker: WorkerId, workers: usize) -> Result<usize, SlotError> {
    if worker.index() < workers {
        Ok(worker.index())
    } else {
        Err(SlotError::WorkerOutOfRange { worker, workers })
    }
}

impl<L: LockKind, C: Send + Sync, S: Clone + Send + Sync> Shared<L, C, S> {
    fn with_slot<R>(
        &self,
        generation: GenerationId,
        worker: WorkerId,
        op: impl FnOnce(&State<L, C, S>, usize) -> R,
    ) -> Result<Option<R>, SlotError> {
        let index = check(worker, self.workers)?;
        let state = L::read(&self.state);
        if state.generation != generation {
            bump(&self.counts[index].stale);
            return Ok(None);
        }
        Ok(Some(op(&state, index)))
    }

    fn store(&self, g: GenerationId, worker: WorkerId, s: S) -> Result<StoreOutcome, SlotError> {
        let stored = self.with_slot(g, worker, |state, index| {
            let old = L::slot_write(&state.slots[index]).replace(s);
            // Relaxed: a hint, as in the crate.
            if state.last_stored.load(Ordering::Relaxed) != index {
                state.last_stored.store(index, Ordering::Relaxed);
            }
            old
        })?;
        Ok(match stored {
            Some(_replaced) => {
                bump(&self.counts[worker.index()].stores);
                StoreOutcome::Stored
            }
            None => StoreOutcome::StaleGeneration,
        })
    }

    fn reuse(slot: &L::Slot<Option<S>>, reuse: Reuse) -> Option<S> {
        match reuse {
            Reuse::Take => L::slot_write(slot).take(),
            Reuse::Copy => L::slot_read(slot).clone(),
        }
    }

    fn read_own(
        &self,
        g: GenerationId,
        worker: WorkerId,
        reuse: Reuse,
    ) -> Result<Option<S>, SlotError> {
        let found = self.with_slot(g, worker, |state, index| {
            Self::reuse(&state.slots[index], reuse)
        })?;
        let counts = &self.counts[worker.index()];
        Ok(match found {
            Some(Some(s)) => {
                bump(&counts.hits);
                Some(s)
            }
            Some(None) => {
                bump(&counts.misses);
                None
            }
            None => None,
        })
    }

    fn borrow(
        &self,
        g: GenerationId,
        worker: WorkerId,
        reuse: Reuse,
    ) -> Result<Option<Borrowed<S>>, SlotError> {
        let found = self.with_slot(g, worker, |state, index| {
            // Relaxed: a hint, as in the crate.
            let from = state.last_stored.load(Ordering::Relaxed);
            if from == NO_WORKER || from == index {
                return None;
            }
            let session = Self::reuse(&state.slots[from], reuse);
            if session.is_none() {
                let _ = state.last_stored.compare_exchange(
                    from,
                    NO_WORKER,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
            session.map(|session| Borrowed {
                from: WorkerId::new(from),
                session,
            })
        })?;
        let counts = &self.counts[worker.index()];
        Ok(match found {
            Some(Some(b)) => {
                bump(&counts.borrows);
                Some(b)
            }
            Some(None) => {
                bump(&counts.misses);
                None
            }
            None => None,
        })
    }

    fn clear(&self, g: GenerationId, worker: WorkerId) -> Result<bool, SlotError> {
        let removed = self.with_slot(g, worker, |state, index| {
            L::slot_write(&state.slots[index]).take()
        })?;
        let cleared = matches!(removed, Some(Some(_)));
        if cleared {
            bump(&self.counts[worker.index()].clears);
        }
        Ok(cleared)
    }
}

macro_rules! forward {
    ($ty:ty, $($lt:lifetime)?) => {
        impl<$($lt,)? L: LockKind, C: Send + Sync, S: Clone + Send + Sync> SlotAccess<S> for $ty {
            fn generation(&self) -> GenerationId {
                self.generation
            }
            fn store(&self, worker: WorkerId, session: S) -> Result<StoreOutcome, SlotError> {
                self.shared.store(self.generation, worker, session)
            }
            fn take(&self, worker: WorkerId) -> Result<Option<S>, SlotError> {
                self.shared.read_own(self.generation, worker, Reuse::Take)
            }
            fn get(&self, worker: WorkerId) -> Result<Option<S>, SlotError> {
                self.shared.read_own(self.generation, worker, Reuse::Copy)
            }
            fn borrow(&self, worker: WorkerId, reuse: Reuse) -> Result<Option<Borrowed<S>>, SlotError> {
                self.shared.borrow(self.generation, worker, reuse)
            }
            fn clear(&self, worker: WorkerId) -> Result<bool, SlotError> {
                self.shared.clear(self.generation, worker)
            }
        }
    };
}

forward!(LockedSlots<L, C, S>,);
forward!(LockedSnapshot<'t, L, C, S>, 't);

impl<L: LockKind, C: Send + Sync, S: Clone + Send + Sync> Snapshot<C, S>
    for LockedSnapshot<'_, L, C, S>
{
    fn context(&self) -> &C {
        &self.context
    }
}

impl<L, C, S> SessionTable<C, S> for LockedTable<L, C, S>
where
    L: LockKind,
    C: Clone + Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    type Slots = LockedSlots<L, C, S>;
    type Snapshot<'t>
        = LockedSnapshot<'t, L, C, S>
    where
        Self: 't;

    const DESIGN: &'static str = L::NAME;

    fn build(workers: usize, context: impl FnOnce(&Self::Slots) -> C) -> Self {
        let shared = Arc::new(Shared {
            state: L::table(State {
                context: None,
                generation: GenerationId::FIRST,
                last_stored: AtomicUsize::new(NO_WORKER),
                slots: (0..workers)
                    .map(|_| CachePadded::new(L::slot(None)))
                    .collect(),
            }),
            workers,
            counts: (0..workers).map(|_| CachePadded::default()).collect(),
            commits: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
        });
        let first = context(&LockedSlots {
            shared: Arc::clone(&shared),
            generation: GenerationId::FIRST,
        });
        L::write(&shared.state).context = Some(first);
        Self { shared }
    }

    fn load(&self) -> Self::Snapshot<'_> {
        let state = L::read(&self.shared.state);
        LockedSnapshot {
            shared: &self.shared,
            context: state.context.clone().expect("set by build"),
            generation: state.generation,
        }
    }

    fn slots(&self) -> Self::Slots {
        LockedSlots {
            shared: Arc::clone(&self.shared),
            generation: self.generation(),
        }
    }

    fn generation(&self) -> GenerationId {
        L::read(&self.shared.state).generation
    }

    fn commit(&self, context: C) -> GenerationId {
        let mut context = Some(context);
        self.commit_with(|_| context.take().expect("called once under the write lock"))
    }

    fn commit_with(&self, mut context: impl FnMut(&Self::Slots) -> C) -> GenerationId {
        let mut state = L::write(&self.shared.state);
        let next = state.generation.next();
        let handle = LockedSlots {
            shared: Arc::clone(&self.shared),
            generation: next,
        };
        state.context = Some(context(&handle));
        state.generation = next;
        state.last_stored.store(NO_WORKER, Ordering::Relaxed);
        let mut flushed = 0;
        for slot in state.slots.iter() {
            // Freed inline under the write lock, as in the seed.
            if L::slot_write(slot).take().is_some() {
                flushed += 1;
            }
        }
        // Relaxed: statistics.
        self.shared.commits.fetch_add(1, Ordering::Relaxed);
        self.shared.flushed.fetch_add(flushed, Ordering::Relaxed);
        next
    }

    fn workers(&self) -> usize {
        self.shared.workers
    }

    fn counters(&self) -> Counters {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let flushed = load(&self.shared.flushed);
        let mut total = Counters {
            commits: load(&self.shared.commits),
            flushed,
            reclaimed: flushed,
            ..Counters::default()
        };
        for c in self.shared.counts.iter() {
            total.stores += load(&c.stores);
            total.hits += load(&c.hits);
            total.misses += load(&c.misses);
            total.borrows += load(&c.borrows);
            total.clears += load(&c.clears);
            total.stale += load(&c.stale);
        }
        total
    }
}
