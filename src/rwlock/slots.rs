//! Slot operations of the rwlock design: every one read-locks the table.

use super::{Shared, State};
use crate::core::{
    Borrowed, Event, GenerationId, Reuse, SlotAccess, SlotError, Snapshot, StoreOutcome, WorkerId,
    check_worker, forget_hint, load_hint, set_hint,
};
use crate::sync::Arc;
use std::sync::PoisonError;

/// A keepable handle on one generation of an
/// [`RwLockTable`](super::RwLockTable).
pub struct RwLockSlots<C, S> {
    shared: Arc<Shared<C, S>>,
    generation: GenerationId,
}

impl<C, S> RwLockSlots<C, S> {
    pub(super) fn new(shared: Arc<Shared<C, S>>, generation: GenerationId) -> Self {
        Self { shared, generation }
    }
}

impl<C, S> Clone for RwLockSlots<C, S> {
    fn clone(&self) -> Self {
        Self::new(Arc::clone(&self.shared), self.generation)
    }
}

/// The current generation of an [`RwLockTable`](super::RwLockTable) as one
/// reader saw it: a clone of the context taken under the read lock.
pub struct RwLockSnapshot<'t, C, S> {
    shared: &'t Shared<C, S>,
    context: C,
    generation: GenerationId,
}

impl<'t, C, S> RwLockSnapshot<'t, C, S> {
    pub(super) fn new(shared: &'t Shared<C, S>, context: C, generation: GenerationId) -> Self {
        Self {
            shared,
            context,
            generation,
        }
    }
}

impl<C, S: Clone> Shared<C, S> {
    /// Runs `op` on `worker`'s slot under the read lock, if `generation` is
    /// still the current one (or the table is the faithful seed).
    fn with_slot<R>(
        &self,
        generation: GenerationId,
        worker: WorkerId,
        op: impl FnOnce(&State<C, S>, usize) -> R,
    ) -> Result<Option<R>, SlotError> {
        let index = check_worker(worker, self.workers)?;
        // HA_RWLOCK_RDLOCK(SSL_SERVER_LOCK, &s->ssl_ctx.lock)
        let state = self.read();
        if self.check_generation && state.generation != generation {
            self.counters.count(worker, Event::Stale);
            return Ok(None);
        }
        Ok(Some(op(&state, index)))
    }

    fn store(
        &self,
        generation: GenerationId,
        worker: WorkerId,
        session: S,
    ) -> Result<StoreOutcome, SlotError> {
        let stored = self.with_slot(generation, worker, |state, index| {
            let old = lock_slot(state, index).replace(session);
            set_hint(&state.last_stored, index);
            old
        })?;
        Ok(match stored {
            // The replaced session is dropped after the read lock is released.
            Some(_replaced) => {
                self.counters.count(worker, Event::Store);
                StoreOutcome::Stored
            }
            None => StoreOutcome::StaleGeneration,
        })
    }

    fn read_own(
        &self,
        generation: GenerationId,
        worker: WorkerId,
        reuse: Reuse,
    ) -> Result<Option<S>, SlotError> {
        let found = self.with_slot(generation, worker, |state, index| {
            let mut slot = lock_slot(state, index);
            match reuse {
                Reuse::Take => slot.take(),
                Reuse::Copy => slot.clone(),
            }
        })?;
        Ok(match found {
            Some(Some(session)) => {
                self.counters.count(worker, Event::Hit);
                Some(session)
            }
            Some(None) => {
                self.counters.count(worker, Event::Miss);
                None
            }
            None => None,
        })
    }

    fn borrow(
        &self,
        generation: GenerationId,
        worker: WorkerId,
        reuse: Reuse,
    ) -> Result<Option<Borrowed<S>>, SlotError> {
        let found = self.with_slot(generation, worker, |state, index| {
            let from = load_hint(&state.last_stored).filter(|&from| from != index)?;
            let mut slot = lock_slot(state, from);
            let session = match reuse {
                Reuse::Take => slot.take(),
                Reuse::Copy => slot.clone(),
            };
            if session.is_none() {
                forget_hint(&state.last_stored, from);
            }
            session.map(|session| Borrowed {
                from: WorkerId::new(from),
                session,
            })
        })?;
        Ok(match found {
            Some(Some(borrowed)) => {
                self.counters.count(worker, Event::Borrow);
                Some(borrowed)
            }
            Some(None) => {
                self.counters.count(worker, Event::Miss);
                None
            }
            None => None,
        })
    }

    fn clear(&self, generation: GenerationId, worker: WorkerId) -> Result<bool, SlotError> {
        let removed = self.with_slot(generation, worker, |state, index| {
            lock_slot(state, index).take()
        })?;
        let cleared = matches!(removed, Some(Some(_)));
        if cleared {
            self.counters.count(worker, Event::Clear);
        }
        Ok(cleared)
    }
}

fn lock_slot<C, S>(
    state: &State<C, S>,
    index: usize,
) -> impl std::ops::DerefMut<Target = Option<S>> + '_ {
    state.slots[index]
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Both handles forward to `Shared` with their generation.
macro_rules! forward_slot_access {
    ($ty:ty, $($lt:lifetime)?) => {
        impl<$($lt,)? C, S: Clone> SlotAccess<S> for $ty {
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

            fn borrow(
                &self,
                worker: WorkerId,
                reuse: Reuse,
            ) -> Result<Option<Borrowed<S>>, SlotError> {
                self.shared.borrow(self.generation, worker, reuse)
            }

            fn clear(&self, worker: WorkerId) -> Result<bool, SlotError> {
                self.shared.clear(self.generation, worker)
            }
        }
    };
}

forward_slot_access!(RwLockSlots<C, S>,);
forward_slot_access!(RwLockSnapshot<'t, C, S>, 't);

impl<C, S: Clone> Snapshot<C, S> for RwLockSnapshot<'_, C, S> {
    fn context(&self) -> &C {
        &self.context
    }
}
