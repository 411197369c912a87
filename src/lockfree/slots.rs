//! The handles through which callers reach one generation's slots.

use super::generation::{Generation, SlotArray};
use crate::core::{
    Borrowed, GenerationId, Reuse, SlotAccess, SlotError, Snapshot, StoreOutcome, WorkerId,
};
use crate::sync::{Arc, Loaded};

/// A keepable handle on one generation of a
/// [`LockFreeTable`](super::LockFreeTable). It holds that generation's slots
/// directly, so operations through it never touch the table's `ArcSwap`.
pub struct LockFreeSlots<S>(Arc<SlotArray<S>>);

impl<S> LockFreeSlots<S> {
    pub(super) fn new(slots: Arc<SlotArray<S>>) -> Self {
        Self(slots)
    }

    fn slots(&self) -> &SlotArray<S> {
        &self.0
    }
}

impl<S> Clone for LockFreeSlots<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

/// The current generation of a [`LockFreeTable`](super::LockFreeTable) as
/// one reader loaded it. Keeps that generation alive while held.
pub struct LockFreeSnapshot<C, S> {
    generation: Loaded<Generation<C, S>>,
}

impl<C, S> LockFreeSnapshot<C, S> {
    pub(super) fn new(generation: Loaded<Generation<C, S>>) -> Self {
        Self { generation }
    }

    fn slots(&self) -> &SlotArray<S> {
        &self.generation.slots
    }
}

macro_rules! forward_slot_access {
    ($ty:ty, $slots:expr, $($params:tt)*) => {
        impl<$($params)*> SlotAccess<S> for $ty
        where
            S: Clone + Send + Sync + 'static,
        {
            fn generation(&self) -> GenerationId {
                $slots(self).id
            }

            fn store(&self, worker: WorkerId, session: S) -> Result<StoreOutcome, SlotError> {
                $slots(self).store(worker, session)
            }

            fn take(&self, worker: WorkerId) -> Result<Option<S>, SlotError> {
                $slots(self).read_own(worker, Reuse::Take)
            }

            fn get(&self, worker: WorkerId) -> Result<Option<S>, SlotError> {
                $slots(self).read_own(worker, Reuse::Copy)
            }

            fn borrow(
                &self,
                worker: WorkerId,
                reuse: Reuse,
            ) -> Result<Option<Borrowed<S>>, SlotError> {
                $slots(self).borrow(worker, reuse)
            }

            fn clear(&self, worker: WorkerId) -> Result<bool, SlotError> {
                $slots(self).clear(worker)
            }
        }
    };
}

forward_slot_access!(LockFreeSlots<S>, LockFreeSlots::slots, S);
forward_slot_access!(LockFreeSnapshot<C, S>, LockFreeSnapshot::slots, C, S);

impl<C, S> Snapshot<C, S> for LockFreeSnapshot<C, S>
where
    S: Clone + Send + Sync + 'static,
{
    fn context(&self) -> &C {
        &self.generation.context
    }
}
