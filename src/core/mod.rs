//! The core: per-worker session slots and a context, with no TLS in it.
//!
//! [`SessionTable`] is the contract both designs implement; [`WorkerId`],
//! [`SlotError`] and [`Counters`] are shared by both.

mod counters;
mod error;
mod table;
mod worker;

pub use counters::Counters;
pub(crate) use counters::{CounterBank, Event};
pub use error::SlotError;
pub use table::{Borrowed, GenerationId, Reuse, SessionTable, SlotAccess, Snapshot, StoreOutcome};
pub use worker::WorkerId;
pub(crate) use worker::{NO_WORKER, forget_hint, load_hint, set_hint};

/// Checks `worker` against a table of `workers` slots.
pub(crate) fn check_worker(worker: WorkerId, workers: usize) -> Result<usize, SlotError> {
    if worker.index() < workers {
        Ok(worker.index())
    } else {
        Err(SlotError::WorkerOutOfRange { worker, workers })
    }
}
