//! Which worker's slot a rustls callback uses.
//!
//! rustls calls the session store from whatever thread polls the handshake,
//! with no context of ours. So the store asks the thread: a runtime that knows
//! its worker index sets it once per thread (tokio: from `on_thread_start`;
//! a thread-per-core proxy: when it pins the thread), and everything else
//! falls back to [`WorkerId::current`], an index assigned lazily per thread.

use crate::core::WorkerId;
use std::cell::Cell;

// loom's `thread_local!` takes no `const { }` initializer.
#[allow(clippy::missing_const_for_thread_local)]
mod slot {
    use crate::core::WorkerId;
    use crate::sync::thread_local;
    use std::cell::Cell;
    thread_local! {
        pub(super) static CURRENT: Cell<Option<WorkerId>> = Cell::new(None);
    }
}

/// Makes `worker` the calling thread's worker for every upstream's session
/// store, until [`clear_current_worker`] or the thread ends.
///
/// Call it once at the start of each runtime thread, e.g. with tokio:
///
/// ```no_run
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// static NEXT: AtomicUsize = AtomicUsize::new(0);
/// // tokio::runtime::Builder::new_multi_thread().on_thread_start(|| {
///     tls_slots::tls::set_current_worker(tls_slots::WorkerId::new(
///         NEXT.fetch_add(1, Ordering::Relaxed) % 8,
///     ));
/// // })
/// ```
pub fn set_current_worker(worker: WorkerId) {
    slot::CURRENT.with(|current| current.set(Some(worker)));
}

/// Forgets what [`set_current_worker`] set on this thread, so the thread
/// falls back to [`WorkerId::current`].
pub fn clear_current_worker() {
    slot::CURRENT.with(|current| current.set(None));
}

/// The calling thread's worker: the one [`set_current_worker`] set, or else
/// [`WorkerId::current`].
pub fn current_worker() -> WorkerId {
    slot::CURRENT
        .with(Cell::get)
        .unwrap_or_else(WorkerId::current)
}
