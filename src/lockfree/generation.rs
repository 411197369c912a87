//! One published generation: a context and its own slots.

use super::reclaim::Domain;
use super::slot::{Held, Retired, Slot};
use crate::core::{
    Borrowed, CounterBank, Event, GenerationId, NO_WORKER, Reuse, SlotError, StoreOutcome,
    WorkerId, check_worker, forget_hint, load_hint, set_hint,
};
use crate::sync::{Arc, AtomicBool, AtomicUsize, CachePadded, Ordering, epoch};
use std::ptr::NonNull;

/// What `ArcSwap` publishes: the context together with the slots that belong
/// to it. A reader that loaded a generation can only ever reach that
/// generation's slots.
pub(crate) struct Generation<C, S> {
    pub(crate) context: C,
    pub(crate) slots: Arc<SlotArray<S>>,
}

/// What every generation of a table shares.
pub(crate) struct TableShared {
    pub(crate) counters: Arc<CounterBank>,
    pub(crate) domain: Domain,
    pub(crate) workers: usize,
}

/// One generation's per-worker slots (HAProxy's `reused_sess[]`), kept in an
/// `Arc` of their own so that a context may hold them (the rustls layer's
/// session store) without a reference cycle.
pub(crate) struct SlotArray<S> {
    pub(crate) id: GenerationId,
    /// Set once by the commit that replaces this generation; from then on
    /// stores are discarded and reads find nothing.
    retired: AtomicBool,
    /// HAProxy 2.9's `last_ssl_sess_tid`.
    last_stored: AtomicUsize,
    slots: Box<[CachePadded<Slot<S>>]>,
    pub(crate) shared: Arc<TableShared>,
}

impl<S> SlotArray<S> {
    pub(crate) fn new(id: GenerationId, shared: Arc<TableShared>) -> Self {
        Self {
            id,
            retired: AtomicBool::new(false),
            last_stored: AtomicUsize::new(NO_WORKER),
            slots: (0..shared.workers)
                .map(|_| CachePadded::new(Slot::empty()))
                .collect(),
            shared,
        }
    }

    fn is_retired(&self) -> bool {
        // Acquire: pairs with the Release store in `retire()`. Nothing but the
        // flag is read through it; the pairing only guarantees that a caller
        // who sees the flag and reloads the table finds the newer generation,
        // which `retire()`'s caller published before setting it.
        self.retired.load(Ordering::Acquire)
    }

    /// Checks the worker and the generation; counts a stale operation.
    fn open(&self, worker: WorkerId) -> Result<Option<usize>, SlotError> {
        let index = check_worker(worker, self.shared.workers)?;
        if self.is_retired() {
            self.shared.counters.count(worker, Event::Stale);
            return Ok(None);
        }
        Ok(Some(index))
    }
}

impl<S: Clone + Send + Sync + 'static> SlotArray<S> {
    pub(crate) fn store(&self, worker: WorkerId, session: S) -> Result<StoreOutcome, SlotError> {
        let Some(index) = self.open(worker)? else {
            return Ok(StoreOutcome::StaleGeneration);
        };
        self.slots[index].store(session, &self.shared.domain.pin());
        set_hint(&self.last_stored, index);
        self.shared.counters.count(worker, Event::Store);
        Ok(StoreOutcome::Stored)
    }

    /// `take` or `get` on slot `index`.
    fn reuse_slot(&self, index: usize, reuse: Reuse) -> Option<S> {
        let guard = self.shared.domain.pin();
        match reuse {
            Reuse::Copy => self.slots[index].copy(guard),
            Reuse::Take => self.slots[index].take(&guard),
        }
    }

    pub(crate) fn read_own(&self, worker: WorkerId, reuse: Reuse) -> Result<Option<S>, SlotError> {
        let Some(index) = self.open(worker)? else {
            return Ok(None);
        };
        let session = self.reuse_slot(index, reuse);
        let event = if session.is_some() {
            Event::Hit
        } else {
            Event::Miss
        };
        self.shared.counters.count(worker, event);
        Ok(session)
    }

    pub(crate) fn borrow(
        &self,
        worker: WorkerId,
        reuse: Reuse,
    ) -> Result<Option<Borrowed<S>>, SlotError> {
        let Some(index) = self.open(worker)? else {
            return Ok(None);
        };
        let borrowed = load_hint(&self.last_stored)
            .filter(|&from| from != index)
            .and_then(|from| {
                let session = self.reuse_slot(from, reuse);
                if session.is_none() {
                    forget_hint(&self.last_stored, from);
                }
                session.map(|session| Borrowed {
                    from: WorkerId::new(from),
                    session,
                })
            });
        let event = if borrowed.is_some() {
            Event::Borrow
        } else {
            Event::Miss
        };
        self.shared.counters.count(worker, event);
        Ok(borrowed)
    }

    pub(crate) fn clear(&self, worker: WorkerId) -> Result<bool, SlotError> {
        let Some(index) = self.open(worker)? else {
            return Ok(false);
        };
        let cleared = self.slots[index].clear(&self.shared.domain.pin());
        if cleared {
            self.shared.counters.count(worker, Event::Clear);
        }
        Ok(cleared)
    }

    /// INJECTED BUG commit_carries_sessions: moves every session of `old`
    /// into these (new) slots, as a commit that forgot to flush would.
    #[cfg(tls_slots_bug = "commit_carries_sessions")]
    pub(crate) fn carry_over_from(&self, old: &SlotArray<S>) {
        let guard = self.shared.domain.pin();
        for (from, to) in old.slots.iter().zip(self.slots.iter()) {
            from.carry_into(to, &guard);
        }
    }

    /// Marks the generation replaced and unlinks every session. Called once,
    /// by the commit that replaced this generation, after the new one is
    /// published. Sessions nobody was copying are freed at once; the others
    /// are returned, to be freed through the epoch. Returns how many were
    /// freed at once, and the others.
    pub(crate) fn retire(&self, guard: &epoch::Guard) -> (u64, Vec<NonNull<Held<S>>>) {
        // Release: pairs with the Acquire in `is_retired()`; see there.
        self.retired.store(true, Ordering::Release);
        let mut freed = 0;
        let mut deferred = Vec::new();
        for slot in self.slots.iter() {
            match slot.retire(guard) {
                None => {}
                Some(Retired::Freed) => freed += 1,
                Some(Retired::Deferred(session)) => deferred.push(session),
            }
        }
        (freed, deferred)
    }
}

impl<S> Drop for SlotArray<S> {
    fn drop(&mut self) {
        // A store that raced the commit can land after `retire()` emptied the
        // slots; such sessions (and a live table's sessions) are freed here.
        // `&mut self` means the last `Arc` is gone, and every reader reaches
        // these slots through an `Arc<SlotArray>` that it holds for as long as
        // its guard is pinned, so no copier can be reading them.
        // Relaxed: `&mut self` already orders us after every other access.
        let retired = self.retired.load(Ordering::Relaxed);
        let freed = self
            .slots
            .iter_mut()
            .map(|slot| u64::from(slot.free_exclusive()))
            .sum();
        if retired {
            self.shared.counters.count_reclaimed(freed);
        }
    }
}
