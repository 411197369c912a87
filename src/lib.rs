//! # tls-slots
//!
//! Per-worker TLS session slots for proxies that open TLS connections to
//! upstream servers, with a context (client certificate, CA bundle) that can
//! be replaced at run time without ever blocking a connection.
//!
//! HAProxy guards each backend server's TLS context and its per-thread session
//! slots with one rwlock. tls-slots offers that design and the lock-free one
//! behind one trait, [`SessionTable`]:
//!
//! ```text
//!  RwLockTable (HAProxy 2.4)                LockFreeTable
//!  ───────────────────────────────          ─────────────────────────────────────
//!  RwLock ─┬─ context                        ArcSwap ── Generation N ─┬─ context N
//!          └─ slots[tid]                                              └─ slots N[tid]
//!  connection: rdlock, copy, unlock          connection: load N, pin, copy
//!  commit:     wrlock (waits for readers),   commit: publish N+1 (O(1)), unlink
//!              swap ctx, free all, unlock            N's sessions, free them after
//!                                                    the epoch says nobody reads them
//! ```
//!
//! Trade-offs, briefly (DESIGN.md has them in full): the lock-free table never
//! blocks and never lets a session of generation N be offered in N+1, but it
//! frees memory later than the rwlock table, `take` copies the session (a
//! reader may still be copying the original), and a store that races a commit
//! is discarded rather than ordered by a lock.
//!
//! ```
//! use tls_slots::{LockFreeTable, SessionTable, SlotAccess, Snapshot, WorkerId};
//!
//! let table = LockFreeTable::<&str, Vec<u8>>::new(4, "context v1");
//! let me = WorkerId::new(0);
//!
//! let current = table.load();
//! assert_eq!(*current.context(), "context v1");
//! current.store(me, b"session".to_vec())?;
//! assert_eq!(current.get(me)?, Some(b"session".to_vec()));
//!
//! table.commit("context v2");
//! // The old generation serves nothing any more, the new one starts empty.
//! assert_eq!(current.get(me)?, None);
//! assert_eq!(table.load().get(me)?, None);
//! # Ok::<(), tls_slots::SlotError>(())
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod core;
mod lockfree;
mod rwlock;
mod sync;

pub use crate::core::{
    Borrowed, Counters, GenerationId, Reuse, SessionTable, SlotAccess, SlotError, Snapshot,
    StoreOutcome, WorkerId,
};
pub use lockfree::{
    LockFreeCurrent, LockFreeReader, LockFreeSlots, LockFreeSnapshot, LockFreeTable,
};
pub use rwlock::{RwLockSlots, RwLockSnapshot, RwLockTable};

/// crossbeam-epoch, as this crate sees it (its loom build under
/// `cfg(tls_slots_loom)`), for [`LockFreeTable::with_collector`].
pub use crossbeam_epoch as epoch;
