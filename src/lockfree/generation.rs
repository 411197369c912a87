//! One published generation: a context and its own slots.

use super::reclaim::Domain;
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
    slots: Box<[CachePadded<epoch::Atomic<S>>]>,
    pub(crate) shared: Arc<TableShared>,
}

impl<S> SlotArray<S> {
    pub(crate) fn new(id: GenerationId, shared: Arc<TableShared>) -> Self {
        Self {
            id,
            retired: AtomicBool::new(false),
            last_stored: AtomicUsize::new(NO_WORKER),
            slots: (0..shared.workers)
                .map(|_| CachePadded::new(epoch::Atomic::null()))
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
        let guard = self.shared.domain.pin();
        // Release: publishes the session's contents to the Acquire load in
        // `get`/`borrow` and the Acquire swaps in `take`/`clear`/`retire`.
        // Acquire: we become the owner of the replaced session and hand it to
        // `defer_destroy`, whose drop must see its contents (pairs with the
        // Release of the store that put it there).
        #[cfg(not(tls_slots_bug = "relaxed_publish"))]
        let publish = Ordering::AcqRel;
        // INJECTED BUG relaxed_publish: nothing orders the session's contents
        // before the pointer that publishes it, nor the copy after it (caught
        // by loom on the reader half; on this half alone the SeqCst fence in
        // a fresh participant's pin masks it, see DESIGN.md).
        #[cfg(tls_slots_bug = "relaxed_publish")]
        let publish = Ordering::Relaxed;
        let replaced = self.slots[index].swap(epoch::Owned::new(session), publish, &guard);
        if !replaced.is_null() {
            #[cfg(not(tls_slots_bug = "free_without_defer"))]
            // SAFETY: the swap unlinked `replaced`, so no new reader can load
            // it; readers that loaded it earlier are pinned, and the epoch will
            // not free it before they unpin. Nobody else can unlink it again.
            unsafe {
                guard.defer_destroy(replaced)
            };
            // INJECTED BUG free_without_defer: frees while a pinned reader may
            // still be cloning it (caught by loom, see DESIGN.md).
            #[cfg(tls_slots_bug = "free_without_defer")]
            // SAFETY: none; this is the injected bug.
            drop(unsafe { replaced.into_owned() });
        }
        set_hint(&self.last_stored, index);
        self.shared.counters.count(worker, Event::Store);
        Ok(StoreOutcome::Stored)
    }

    /// `take` or `get` on slot `index`, under `guard`.
    ///
    /// Takes the guard by value so that nothing can outlive it by accident.
    fn reuse_slot(&self, index: usize, reuse: Reuse, guard: epoch::Guard) -> Option<S> {
        let slot = &self.slots[index];
        match reuse {
            Reuse::Copy => {
                // Acquire: pairs with the Release half of the swap in `store()`,
                // so the clone below reads a fully written session.
                #[cfg(not(tls_slots_bug = "relaxed_publish"))]
                let current = slot.load(Ordering::Acquire, &guard).as_raw();
                // INJECTED BUG relaxed_publish, reader half (see `store`).
                #[cfg(tls_slots_bug = "relaxed_publish")]
                let current = slot.load(Ordering::Relaxed, &guard).as_raw();
                // INJECTED BUG early_unpin: the guard goes before the clone, so
                // the epoch may free the session under us (caught by loom).
                #[cfg(tls_slots_bug = "early_unpin")]
                drop(guard);
                // SAFETY: `current` was loaded under `guard` and is only freed
                // through the epoch, so it stays valid until `guard` drops
                // (after this clone); it is either null or points to a session.
                unsafe { current.as_ref() }.cloned()
            }
            Reuse::Take => {
                // Acquire: pairs with the Release in `store()`, as above. No
                // Release: a null publishes nothing.
                #[cfg(not(tls_slots_bug = "take_not_atomic"))]
                let taken = slot.swap(epoch::Shared::null(), Ordering::Acquire, &guard);
                // INJECTED BUG take_not_atomic: load, then store null: two
                // takers can both get the single-use session (caught by loom).
                #[cfg(tls_slots_bug = "take_not_atomic")]
                let taken = {
                    let seen = slot.load(Ordering::Acquire, &guard);
                    slot.store(epoch::Shared::null(), Ordering::Release);
                    seen
                };
                // SAFETY: as in `Copy`: valid until `guard` drops.
                let session = unsafe { taken.as_ref() }.cloned();
                if !taken.is_null() {
                    #[cfg(not(tls_slots_bug = "free_without_defer"))]
                    // SAFETY: the swap unlinked `taken`, only this thread got
                    // it, and readers that loaded it earlier are pinned and
                    // protect it until they unpin. The copy above is what we
                    // hand out, because one of those readers may still be
                    // copying the original (see DESIGN.md, "take copies").
                    unsafe {
                        guard.defer_destroy(taken)
                    };
                    // INJECTED BUG free_without_defer (see `store`).
                    #[cfg(tls_slots_bug = "free_without_defer")]
                    // SAFETY: none; this is the injected bug.
                    drop(unsafe { taken.into_owned() });
                }
                session
            }
        }
    }

    pub(crate) fn read_own(&self, worker: WorkerId, reuse: Reuse) -> Result<Option<S>, SlotError> {
        let Some(index) = self.open(worker)? else {
            return Ok(None);
        };
        let guard = self.shared.domain.pin();
        let session = self.reuse_slot(index, reuse, guard);
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
                let guard = self.shared.domain.pin();
                let session = self.reuse_slot(from, reuse, guard);
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
        let guard = self.shared.domain.pin();
        // Acquire: we own the removed session and free it later; its drop must
        // see its contents (pairs with the Release in `store()`).
        let removed = self.slots[index].swap(epoch::Shared::null(), Ordering::Acquire, &guard);
        if removed.is_null() {
            return Ok(false);
        }
        // SAFETY: unlinked by our swap; readers that loaded it are pinned and
        // the epoch frees it only after they unpin.
        unsafe { guard.defer_destroy(removed) };
        self.shared.counters.count(worker, Event::Clear);
        Ok(true)
    }

    /// INJECTED BUG commit_carries_sessions: moves every session of `old`
    /// into these (new) slots, as a commit that forgot to flush would.
    #[cfg(tls_slots_bug = "commit_carries_sessions")]
    pub(crate) fn carry_over_from(&self, old: &SlotArray<S>) {
        let guard = self.shared.domain.pin();
        for (from, to) in old.slots.iter().zip(self.slots.iter()) {
            let moved = from.swap(epoch::Shared::null(), Ordering::AcqRel, &guard);
            to.store(moved, Ordering::Release);
        }
    }

    /// Marks the generation replaced and unlinks every session, returning
    /// them for deferred freeing. Called once, by the commit that replaced
    /// this generation, after the new one is published.
    pub(crate) fn retire(&self, guard: &epoch::Guard) -> Vec<NonNull<S>> {
        // Release: pairs with the Acquire in `is_retired()`; see there.
        self.retired.store(true, Ordering::Release);
        self.slots
            .iter()
            .filter_map(|slot| {
                // Acquire: we own what we unlink and it will be dropped later;
                // pairs with the Release in `store()`.
                let unlinked = slot.swap(epoch::Shared::null(), Ordering::Acquire, guard);
                NonNull::new(unlinked.as_raw().cast_mut())
            })
            .collect()
    }
}

impl<S> Drop for SlotArray<S> {
    fn drop(&mut self) {
        // A store that raced the commit can land after `retire()` emptied the
        // slots; such sessions (and a live table's sessions) are freed here.
        // SAFETY: `&mut self` means the last `Arc` is gone. Every reader
        // reaches these slots through an `Arc<SlotArray>` that it holds for as
        // long as its guard is pinned, so no reader can be looking at them.
        let guard = unsafe { epoch::unprotected() };
        // Relaxed: `&mut self` already orders us after every other access.
        let retired = self.retired.load(Ordering::Relaxed);
        let mut freed = 0;
        for slot in self.slots.iter() {
            // Relaxed: as above, exclusive access.
            let session = slot.swap(epoch::Shared::null(), Ordering::Relaxed, guard);
            if !session.is_null() {
                // SAFETY: exclusive access (see above), and the pointer came
                // from `Owned::new` in `store()`.
                drop(unsafe { session.into_owned() });
                freed += 1;
            }
        }
        if retired {
            self.shared.counters.count_reclaimed(freed);
        }
    }
}
