//! Who frees what, and when: the epoch domain and retired session batches.

use crate::core::CounterBank;
use crate::sync::{Arc, epoch};
use std::ptr::NonNull;

/// Where a table's readers pin.
pub(crate) enum Domain {
    /// crossbeam-epoch's process-wide collector and its per-thread handle:
    /// one cheap `pin()` per operation. The default.
    Global,
    /// A collector of the table's own. Each `pin()` registers a fresh
    /// participant, which is slow; it exists so that loom models and Miri runs
    /// can own (and tear down) every deferred free.
    Own(epoch::Collector),
}

impl Domain {
    pub(crate) fn pin(&self) -> epoch::Guard {
        match self {
            Domain::Global => epoch::pin(),
            Domain::Own(collector) => collector.register().pin(),
        }
    }
}

/// The sessions that one commit swapped out of the generation it replaced,
/// waiting to be freed.
///
/// A batch travels through `Guard::defer` (so it cannot be touched before
/// every reader that might still see one of its sessions has unpinned) and
/// then through a channel to the committer, who drops it. Dropping frees the
/// sessions, so a batch is freed correctly wherever it ends up being dropped.
pub(crate) struct RetiredBatch<S> {
    sessions: Vec<NonNull<S>>,
    counters: Arc<CounterBank>,
}

// SAFETY: a batch owns its sessions (they were swapped out of their slots, so
// nobody else can remove them), and only moves them to the thread that frees
// them; that needs `S: Send` and nothing more.
unsafe impl<S: Send> Send for RetiredBatch<S> {}

impl<S> RetiredBatch<S> {
    /// # Safety
    ///
    /// Every pointer must come from `Owned::into_shared` (via a slot) and
    /// have been swapped out of its slot by the caller, so that nothing else
    /// can free it; and the batch must not be dropped before every guard that
    /// was pinned when they were swapped out has been dropped (pass it through
    /// `Guard::defer` at once).
    pub(crate) unsafe fn new(sessions: Vec<NonNull<S>>, counters: Arc<CounterBank>) -> Self {
        Self { sessions, counters }
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }
}

impl<S> Drop for RetiredBatch<S> {
    fn drop(&mut self) {
        let freed = self.sessions.len() as u64;
        for session in self.sessions.drain(..) {
            // SAFETY: the contract of `new`: we own the pointer, it came from
            // an `Owned`, and the epoch has moved past every reader that could
            // have loaded it, so no reference to it remains.
            drop(unsafe { epoch::Owned::from_raw(session.as_ptr()) });
        }
        self.counters.count_reclaimed(freed);
    }
}
