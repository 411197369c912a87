//! Worker identity: HAProxy's `tid`.

use crate::sync::{AtomicUsize, Ordering, thread_local};
use std::cell::Cell;
use std::fmt;

/// The index of the worker (thread) that owns a slot, like HAProxy's `tid`.
///
/// Runtimes that know their worker index (a thread-per-core proxy, tokio's
/// worker index) pass it with [`WorkerId::new`]; everything else can use
/// [`WorkerId::current`], a small index assigned lazily to each thread on
/// first use. A table refuses an index at or past its size with
/// [`SlotError::WorkerOutOfRange`](crate::SlotError::WorkerOutOfRange); two
/// threads that use the same index stay memory-safe (they only share a slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkerId(usize);

impl WorkerId {
    /// The worker with index `index`.
    pub const fn new(index: usize) -> Self {
        Self(index)
    }

    /// This worker's index into a table's slots.
    pub const fn index(self) -> usize {
        self.0
    }

    /// The index assigned to the calling thread: 0 for the first thread that
    /// asks, 1 for the next, and so on; the same value for the thread's life.
    // loom's `thread_local!` takes no `const { }` initializer.
    #[allow(clippy::missing_const_for_thread_local)]
    pub fn current() -> Self {
        thread_local! {
            static ASSIGNED: Cell<Option<WorkerId>> = Cell::new(None);
        }
        ASSIGNED.with(|assigned| match assigned.get() {
            Some(id) => id,
            None => {
                let id = WorkerId(next_thread_index());
                assigned.set(Some(id));
                id
            }
        })
    }
}

/// Hands out thread indices. Only uniqueness matters, no data is published
/// through it, so it stays a plain `std` atomic even under loom (a loom atomic
/// cannot live in a `static`; loom models pass explicit `WorkerId`s).
fn next_thread_index() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    // Relaxed: a counter that only has to hand out distinct values; nothing
    // else is ordered by it.
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "worker {}", self.0)
    }
}

/// `usize::MAX` marks "no worker" in the `last_stored` hints of both designs.
pub(crate) const NO_WORKER: usize = usize::MAX;

/// Reads a `last_stored` hint.
pub(crate) fn load_hint(hint: &AtomicUsize) -> Option<usize> {
    // Relaxed: the hint is only an index to try; the slot it names is then read
    // with its own Acquire, so nothing is published through the hint itself.
    match hint.load(Ordering::Relaxed) {
        NO_WORKER => None,
        index => Some(index),
    }
}

/// Records that worker `index` stored last, without writing the shared line
/// when it already says so (HAProxy 2.9's `last_ssl_sess_tid`).
pub(crate) fn set_hint(hint: &AtomicUsize, index: usize) {
    // Relaxed (both): a hint, see `load_hint`. The load first avoids dirtying a
    // cache line every worker reads when the value would not change.
    if hint.load(Ordering::Relaxed) != index {
        hint.store(index, Ordering::Relaxed);
    }
}

/// Forgets the hint if it still names `index` (its slot was found empty).
pub(crate) fn forget_hint(hint: &AtomicUsize, index: usize) {
    // Relaxed: a hint, see `load_hint`. Failure means another worker stored
    // meanwhile and its newer hint must stay.
    let _ = hint.compare_exchange(index, NO_WORKER, Ordering::Relaxed, Ordering::Relaxed);
}
