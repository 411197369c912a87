//! Typed errors of the core table.

use super::WorkerId;
use std::fmt;

/// Why a slot operation was refused. Nothing is changed when one is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotError {
    /// The worker index is at or past the number of slots the table was built
    /// with. Tables never wrap indices around: two workers silently sharing a
    /// slot would hide a configuration mistake.
    WorkerOutOfRange {
        /// The worker that asked.
        worker: WorkerId,
        /// How many workers the table has slots for.
        workers: usize,
    },
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlotError::WorkerOutOfRange { worker, workers } => write!(
                f,
                "{worker} is out of range: the table has slots for workers 0..{workers}"
            ),
        }
    }
}

impl std::error::Error for SlotError {}
