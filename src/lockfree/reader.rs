//! A per-thread read handle: the current generation without a read-modify-write.
//!
//! [`LockFreeTable::load`](super::LockFreeTable) goes through
//! `ArcSwap::load`, which claims a debt slot (a SeqCst read-modify-write on a
//! thread-local line) every time; on one core that makes it slower than an
//! uncontended rwlock (BRIEF §5). A worker that keeps a [`LockFreeReader`]
//! instead pays one plain load of the published pointer per connection, and
//! reloads the generation (one `Arc` clone) only when a commit has replaced it.
//!
//! | | `load()` | `reader().load()` |
//! |---|---|---|
//! | per call, no commit since the last call | `ArcSwap` debt-slot RMW | one `Relaxed` pointer load and a compare |
//! | after a commit | same | one `load_full` (an `Arc` clone) |
//! | keeps alive | the generation, while the snapshot lives | the last generation it saw, until its next `load` or drop |

use super::generation::{Generation, SlotArray};
use crate::core::{
    Borrowed, GenerationId, Reuse, SlotAccess, SlotError, Snapshot, StoreOutcome, WorkerId,
};
use crate::sync::{ArcSwap, CachedGeneration};

/// A handle one worker keeps on a [`LockFreeTable`](super::LockFreeTable)
/// to read the current generation without touching shared or thread-local
/// reference counts (arc-swap's `Cache`).
///
/// Like any snapshot, the generation it returns may be replaced by a commit
/// while it is used; the slot operations then act on the replaced generation,
/// which discards stores and finds nothing, exactly as with
/// [`SessionTable::load`](crate::SessionTable::load). The handle keeps the
/// last generation it saw (its context and slot array, never its flushed
/// sessions) alive until its next `load`: drop idle readers.
pub struct LockFreeReader<'t, C, S> {
    cache: CachedGeneration<'t, Generation<C, S>>,
}

impl<'t, C, S> LockFreeReader<'t, C, S> {
    pub(super) fn new(current: &'t ArcSwap<Generation<C, S>>) -> Self {
        Self {
            cache: CachedGeneration::new(current),
        }
    }

    /// The current generation. If no commit happened since the last call,
    /// this is one `Relaxed` pointer load inside arc-swap's `Cache` (it
    /// orders nothing by itself: when the pointer differs, `load_full`, an
    /// ordinary arc-swap load, fetches and synchronises the new generation;
    /// when it is equal, the cached generation was synchronised by that
    /// earlier `load_full`).
    pub fn load(&mut self) -> LockFreeCurrent<'_, C, S> {
        LockFreeCurrent {
            generation: self.cache.load(),
        }
    }
}

/// The generation a [`LockFreeReader`] returned: context and slot
/// operations, borrowed from the reader.
pub struct LockFreeCurrent<'r, C, S> {
    generation: &'r Generation<C, S>,
}

impl<C, S> LockFreeCurrent<'_, C, S> {
    fn slots(&self) -> &SlotArray<S> {
        &self.generation.slots
    }
}

impl<C, S> SlotAccess<S> for LockFreeCurrent<'_, C, S>
where
    S: Clone + Send + Sync + 'static,
{
    fn generation(&self) -> GenerationId {
        self.slots().id
    }

    fn store(&self, worker: WorkerId, session: S) -> Result<StoreOutcome, SlotError> {
        self.slots().store(worker, session)
    }

    fn take(&self, worker: WorkerId) -> Result<Option<S>, SlotError> {
        self.slots().read_own(worker, Reuse::Take)
    }

    fn get(&self, worker: WorkerId) -> Result<Option<S>, SlotError> {
        self.slots().read_own(worker, Reuse::Copy)
    }

    fn borrow(&self, worker: WorkerId, reuse: Reuse) -> Result<Option<Borrowed<S>>, SlotError> {
        self.slots().borrow(worker, reuse)
    }

    fn clear(&self, worker: WorkerId) -> Result<bool, SlotError> {
        self.slots().clear(worker)
    }
}

impl<C, S> Snapshot<C, S> for LockFreeCurrent<'_, C, S>
where
    S: Clone + Send + Sync + 'static,
{
    fn context(&self) -> &C {
        &self.generation.context
    }
}
