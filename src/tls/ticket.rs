//! A single-take cell for one TLS 1.3 ticket.
//!
//! The core table needs sessions that can be cloned (the lock-free `take`
//! hands out a copy, `get` and `borrow` copy), but a TLS 1.3 ticket is single
//! use and `Tls13ClientSessionValue` is not `Clone`. So a slot holds tickets
//! in cells that copies of the slot's entry *share*: copying an entry copies
//! pointers to the same cells, and whoever takes from a cell first gets the
//! ticket, everybody else finds it empty.
//!
//! The cell is an `ArcSwapOption` that nobody ever `load`s: the only
//! operation is `swap(None)`, which is linearizable, so exactly one caller
//! gets the `Arc` out. Because nothing else ever loaded it, that `Arc` is the
//! only reference left and unwrapping it cannot fail. No lock, no `unsafe`.

use crate::sync::{Arc, ArcSwapOption};
use std::fmt;

/// Holds one value that can be taken at most once, by any thread.
pub(crate) struct TicketCell<T> {
    value: ArcSwapOption<T>,
}

impl<T> TicketCell<T> {
    /// A full cell.
    pub(crate) fn new(value: T) -> Self {
        Self {
            value: ArcSwapOption::new(Some(Arc::new(value))),
        }
    }

    /// The value, to the first caller only; `None` to everybody after.
    pub(crate) fn take(&self) -> Option<T> {
        // arc-swap's `swap` is SeqCst and linearizable: of any number of
        // concurrent takers exactly one gets `Some`. The value itself was
        // published to other threads by the core slot store (Release) that
        // put the entry holding this cell into a slot; the Acquire load that
        // found the entry pairs with it.
        let taken = self.value.swap(None)?;
        // Nobody ever `load`s this cell, so no guard or debt can hold a second
        // reference: the unwrap always succeeds.
        let value = Arc::try_unwrap(taken).ok();
        debug_assert!(value.is_some(), "a ticket cell is never loaded");
        value
    }
}

impl<T> fmt::Debug for TicketCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketCell")
    }
}

#[cfg(all(test, not(tls_slots_loom)))]
mod tests {
    use super::TicketCell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn takes_once() {
        let cell = TicketCell::new(vec![1u8; 16]);
        assert_eq!(cell.take(), Some(vec![1u8; 16]));
        assert_eq!(cell.take(), None);
    }

    #[test]
    fn concurrent_takers_get_it_exactly_once() {
        for _ in 0..200 {
            let cell = Arc::new(TicketCell::new(String::from("ticket")));
            let won = Arc::new(AtomicUsize::new(0));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (cell, won) = (Arc::clone(&cell), Arc::clone(&won));
                    std::thread::spawn(move || {
                        if cell.take().is_some() {
                            won.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            threads.into_iter().for_each(|t| t.join().unwrap());
            assert_eq!(won.load(Ordering::Relaxed), 1);
        }
    }
}
